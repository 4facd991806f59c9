"""Benchmark ``headroom learn``: quality against a hand-labelled set, and speed at scale.

    python scripts/bench_learn.py                    # precision and recall per labelled corpus
    python scripts/bench_learn.py --scale 1000000    # also: learn from a synthesised 1M-call log

Quality: each file in tests/learn/labels/ names a corpus under ../shared/data/traces, the lessons
a careful reader would write down (each for one repository, or "all"), the sessions that show
each, and lines that must never be written. The corpus is split by session into a tuning and a
checking half (tests/trace_bodies.py's split_by_session); for each half, and for the whole, the
lines `headroom learn --project all` would write are scored: precision = written lines that match
a lesson (and no "never" rule) / written lines; recall = lessons found / lessons the half shows
(at least min_sessions of their sessions in it).

Scale: scripts/synth_log.py writes a SQLite log of N tool calls built from the real ones; the
learner then runs in a child process (``headroom learn LOG --project all --json``) whose wall
time, CPU time and peak resident memory are printed, at N/10 and at N, so growth is visible.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TRACES = REPO.parent / "shared" / "data" / "traces"
LABELS = REPO / "tests" / "learn" / "labels"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "tests"))


def line_matches(lesson: dict, scope: str, line: str) -> bool:
    """A written line is the lesson when it is written for the lesson's scope and says what the
    lesson says (every expression in ``line`` found in it)."""
    if lesson["scope"] != scope:
        return False
    return all(re.search(expression, line, re.I) for expression in lesson["line"])


def written_lines(files: list[Path], min_evidence: int) -> list[tuple[str, str]]:
    """(scope, line) for every line ``headroom learn --project all`` would write from ``files``:
    a project's own lines under its repository's name, the cross-project section under "all"
    (counted once, though every project's file repeats it)."""
    from headroom_mitm.learn.importers import READERS, detect_agent
    from headroom_mitm.learn.mine import mine, select_patterns
    from headroom_mitm.learn.records import chronological_key
    from headroom_mitm.learn.write import written_for

    records = []
    for path in files:
        agent = detect_agent(path)
        if agent:
            records.extend(READERS[agent](path))
    records.sort(key=chronological_key)
    chosen = select_patterns(mine(records).patterns, None, min_evidence)
    return written_for(chosen)


def corpus_files(corpus: Path) -> list[Path]:
    from headroom_mitm.learn.importers import find_transcripts

    return sorted(path for _, path in find_transcripts([corpus]))


def score(spec: dict, files: list[Path]) -> dict:
    from trace_bodies import session_of

    sessions = {session_of(path) for path in files}
    default_min = spec.get("min_evidence", 2)
    lines = written_lines(files, default_min) if files else []
    lessons = spec["lessons"]
    never = [rule["pattern"] for rule in spec.get("never", [])]
    # a lesson this half can show: enough of the sessions that show it are in the half
    expected = [
        lesson for lesson in lessons
        if len(sessions & set(lesson["sessions"])) >= lesson.get("min_sessions", default_min)
    ]
    good, bad, forbidden = [], [], []
    for scope, line in lines:
        if any(re.search(pattern, line) for pattern in never):
            forbidden.append((scope, line))
            bad.append((scope, line))
        elif any(line_matches(lesson, scope, line) for lesson in lessons):
            good.append((scope, line))
        else:
            bad.append((scope, line))
    found = [lesson for lesson in expected if any(line_matches(lesson, s, l) for s, l in good)]
    return {
        "sessions": len(sessions),
        "written": len(lines),
        "expected": len(expected),
        "precision": len(good) / len(lines) if lines else 1.0,
        "recall": len(found) / len(expected) if expected else 1.0,
        "unmatched": [f"[{scope}] {line}" + ("   <- never" if (scope, line) in forbidden else "") for scope, line in bad],
        "missed": [f"[{lesson['scope']}] {lesson['id']}" for lesson in expected if lesson not in found],
    }


def quality() -> list[dict]:
    """Per labelled corpus and per half of it (tests/trace_bodies.py's split by session)."""
    from trace_bodies import split_by_session

    rows = []
    for label_file in sorted(LABELS.glob("*.yaml")):
        spec = yaml.safe_load(label_file.read_text())
        corpus = TRACES / spec["corpus"]
        if not corpus.exists():
            print(f"skipped {label_file.name}: traces not found at {corpus}")
            continue
        files = corpus_files(corpus)
        tuning, checking = split_by_session(files)
        for half, part in (("tuning", tuning), ("checking", checking), ("all", files)):
            rows.append({"corpus": spec["corpus"], "half": half, **score(spec, part)})
    return rows


def learn_at_scale(calls: int, folder: Path) -> dict:
    from synth_log import synthesize

    log = folder / f"synth-{calls}.db"
    started = time.perf_counter()
    total = synthesize(log, calls)
    synth_seconds = time.perf_counter() - started
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", "import sys; from addon.cli import main; sys.exit(main())",
         "learn", str(log), "--project", "all", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    patterns = json.loads(completed.stdout)["patterns"]
    size_mb = log.stat().st_size / 1e6
    log.unlink()
    return {
        "calls": total,
        "log_mb": size_mb,
        "synth_s": synth_seconds,
        "learn_s": seconds,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "peak_rss_mb": after.ru_maxrss / 1024,  # the largest child so far (Linux: kB)
        "patterns": len(patterns),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=0, help="also learn from a synthesised log of this many calls")
    parser.add_argument("--tmp", type=Path, default=None, help="folder for the synthesised log (default: a temp dir)")
    parser.add_argument("--verbose", action="store_true", help="list unmatched patterns and missed labels")
    args = parser.parse_args()

    print(f"{'corpus':<16} {'half':<9} {'sessions':>8} {'written':>7} {'lessons':>7} {'precision':>9} {'recall':>6}")
    for row in quality():
        print(
            f"{row['corpus']:<16} {row['half']:<9} {row['sessions']:>8} {row['written']:>7} {row['expected']:>7} "
            f"{row['precision']:>9.2f} {row['recall']:>6.2f}"
        )
        if args.verbose:
            for line in row["unmatched"]:
                print(f"    not labelled: {line}")
            for line in row["missed"]:
                print(f"    missed:       {line}")

    if args.scale:
        folder = args.tmp or Path(tempfile.mkdtemp(prefix="headroom-bench-"))
        folder.mkdir(parents=True, exist_ok=True)
        print()
        print(f"{'calls':>9} {'log MB':>7} {'synth s':>8} {'learn s':>8} {'cpu s':>6} {'peak RSS MB':>11} {'patterns':>8}")
        sizes = [args.scale // 10, args.scale] if args.scale >= 10_000 else [args.scale]
        for size in sizes:
            row = learn_at_scale(size, folder)
            print(
                f"{row['calls']:>9} {row['log_mb']:>7.0f} {row['synth_s']:>8.1f} {row['learn_s']:>8.1f} "
                f"{row['cpu_s']:>6.1f} {row['peak_rss_mb']:>11.0f} {row['patterns']:>8}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
