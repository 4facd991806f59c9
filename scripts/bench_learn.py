"""Benchmark ``headroom learn``: quality against a hand-labelled set, and speed at scale.

    python scripts/bench_learn.py                    # precision and recall per labelled corpus
    python scripts/bench_learn.py --scale 1000000    # also: learn from a synthesised 1M-call log

Quality: each file in tests/learn/labels/ names a corpus under ../shared/data/traces and the
patterns a careful reader would write down. A mined pattern (at the file's min_evidence) is a true
positive when it matches a label; precision = matched patterns / patterns, recall = labels found
/ labels.

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


def matches(label: dict, pattern: dict) -> bool:
    if label.get("kind") and pattern["kind"] != label["kind"]:
        return False
    if "trigger" in label and pattern["trigger"] != label["trigger"]:
        return False
    if "error" in label and label["error"] not in pattern["error"]:
        return False
    if "missing" in label and pattern.get("missing") != label["missing"]:
        return False
    if "fix" in label and not re.search(label["fix"], pattern["fix"]):
        return False
    if "alternative" in label:
        rivals = [fix["fix"] for fix in pattern.get("fixes", [])[1:]]
        if not any(re.search(label["alternative"], rival) for rival in rivals):
            return False
    return True


def mine_corpus(corpus: Path, min_evidence: int) -> list[dict]:
    from headroom_mitm.learn.importers import iter_transcripts
    from headroom_mitm.learn.mine import mine, select_patterns
    from headroom_mitm.learn.records import chronological_key

    records = [call for _, _, calls in iter_transcripts([corpus]) for call in calls]
    records.sort(key=chronological_key)
    return [pattern.as_json() for pattern in select_patterns(mine(records).patterns, None, min_evidence)]


def quality() -> list[dict]:
    rows = []
    for label_file in sorted(LABELS.glob("*.yaml")):
        spec = yaml.safe_load(label_file.read_text())
        corpus = TRACES / spec["corpus"]
        if not corpus.exists():
            print(f"skipped {label_file.name}: traces not found at {corpus}")
            continue
        patterns = mine_corpus(corpus, spec.get("min_evidence", 2))
        labels = spec["patterns"]
        matched_patterns = [p for p in patterns if any(matches(label, p) for label in labels)]
        found = [label for label in labels if any(matches(label, p) for p in patterns)]
        rows.append(
            {
                "corpus": spec["corpus"],
                "patterns": len(patterns),
                "labels": len(labels),
                "precision": len(matched_patterns) / len(patterns) if patterns else 1.0,
                "recall": len(found) / len(labels) if labels else 1.0,
                "unmatched": [f"{p['trigger']} | {p['error']} | {p['fix']}" for p in patterns if p not in matched_patterns],
                "missed": [
                    f"{label.get('trigger') or label.get('missing') or label.get('kind')} | {label.get('error', '')}"
                    for label in labels
                    if label not in found
                ],
            }
        )
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

    print(f"{'corpus':<16} {'patterns':>8} {'labels':>6} {'precision':>9} {'recall':>6}")
    for row in quality():
        print(f"{row['corpus']:<16} {row['patterns']:>8} {row['labels']:>6} {row['precision']:>9.2f} {row['recall']:>6.2f}")
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
