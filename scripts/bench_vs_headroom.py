#!/usr/bin/env python3
"""Ours against headroom-ai on one batch of real request bodies: savings, retention, cache cost, speed.

The batch is the one scripts/bench_traces.py replays (Claude Code -> Anthropic Messages,
mini-swe-agent -> OpenAI Chat), written as JSONL, one file per traffic type. Then:

1. ``.venv/bin/headroom compress --jsonl`` runs over it as a subprocess: batch wall time,
   startup included; the per-request median and p99 come from an in-process run of the same code
   (one line of text in, one out: parse, compress, write back, with the batch's shared memory of
   the previous request as the command has it);
2. headroom-ai's ``compress`` runs over it under its own interpreter (``--headroom-python``,
   through scripts/_headroom_runner.py, offline): batch wall time, startup included, and the
   per-request times the runner measures around the same work (parse the line, compress, write
   it back). Two rows: its default (what a library user gets) and its cache mode
   (``frozen_message_count`` = the previous request's messages, which stay as first sent): the
   like-for-like row, as ours runs in cache mode;
3. both outputs are recounted with o200k_base, with bench_traces.py's own metric functions.

Each tool runs ``--repeat`` times (3 by default), the tools in turn within each round; the
table shows the median batch time and the median of the rounds' per-request medians and p99s.

headroom-ai is never imported here: it lives in another virtualenv, or the Headroom rows say
"not run". Nothing reaches the network (its offline and telemetry switches are set).

    python scripts/bench_vs_headroom.py --quick --headroom-python /tmp/hr-venv/bin/python
    python scripts/bench_vs_headroom.py --headroom-python /tmp/hr-venv/bin/python   # the full dev set
    python scripts/bench_vs_headroom.py --limit 2 --workdir /tmp/bvh   # keep the batch and outputs
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_traces  # noqa: E402  (sets TIKTOKEN_CACHE_DIR before the tokenizer loads)
from bench_traces import (  # noqa: E402
    LABELS,
    ROOT,
    TARGETS,
    Totals,
    ToolTotals,
    _p99,
    _ratio,
    _score_retention,
    cache_cost,
    identical_prefix,
    piece_tokens,
)

from headroom_mitm.addon.cli.compress import compress_text  # noqa: E402
from headroom_mitm.addon.pipeline import clear_memo  # noqa: E402
from headroom_mitm.addon.prefix_reuse import PrefixReuse  # noqa: E402
from headroom_mitm.addon.providers import by_name  # noqa: E402
from headroom_mitm.addon.tokens import tokenizer_name  # noqa: E402
from headroom_mitm.rules import load_rules  # noqa: E402

RUNNER = Path(__file__).resolve().parent / "_headroom_runner.py"
OURS_CLI = ROOT / ".venv" / "bin" / "headroom"
SPEED_TARGET = 0.25
# Everything headroom-ai reads to stay off the network: its air-gap switch, telemetry and beacon
# opt-outs, the update check, and the model hubs its ML compressor would download from.
HEADROOM_OFFLINE_ENV = {
    "HEADROOM_OFFLINE": "1",
    "HEADROOM_TELEMETRY": "off",
    "HEADROOM_BEACON": "off",
    "HEADROOM_UPDATE_CHECK": "off",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
}


@dataclass
class Batch:
    provider: str
    path: Path
    sessions: list[int] = field(default_factory=list)
    """The session of each line, to know which requests are consecutive in one conversation."""


@dataclass
class Run:
    """One tool over one batch: where its output went and how long it took."""

    name: str
    output: Path | None
    wall_s: float = 0.0
    times_ms: list[float] = field(default_factory=list)
    note: str = ""
    startup_s: float | None = None
    """Ours: the CLI on an empty batch. headroom-ai: its import and first call (it builds lazily)."""
    totals: Totals | None = None
    rounds: int = 1
    median_ms: float | None = None
    """The median over the rounds of each round's per-request median (None: one round, see times_ms)."""
    p99_ms: float | None = None


def write_batches(workdir: Path, limit: int | None, max_requests: int | None, quick: bool,
                  only: str | None) -> list[Batch]:
    traces = bench_traces._trace_bodies()
    sources = [
        ("anthropic", traces.claude_code_requests, traces.claude_code_trace_files()),
        ("openai-chat", traces.mini_swe_requests, traces.mini_swe_trace_files()),
    ]
    batches = []
    for provider, builder, files in sources:
        if only and provider != only:
            continue
        if quick:  # the same sample bench_traces.py --quick takes
            files = sorted(files, key=lambda p: -p.stat().st_size)
        batch = Batch(provider, workdir / f"{provider}.jsonl")
        with open(batch.path, "w", encoding="utf-8") as out:
            for session, path in enumerate(files[:limit] if limit else files):
                for count, body in enumerate(builder(path)):
                    if max_requests is not None and count >= max_requests:
                        break
                    out.write(json.dumps(body) + "\n")
                    batch.sessions.append(session)
        batches.append(batch)
    return batches


def time_ours_in_process(batch: Batch, rules: Any) -> list[float]:
    """Per-request milliseconds of the code behind ``headroom compress --jsonl``: parse,
    compress and write back one line, with the memory of the previous request it keeps. Starts
    with nothing memoised, as the command does."""
    clear_memo()
    reuse = PrefixReuse()
    times = []
    with open(batch.path, encoding="utf-8") as lines:
        for line in lines:
            started = time.perf_counter()
            compress_text(line.rstrip("\n"), rules, "cache", batch.provider, reuse)
            times.append((time.perf_counter() - started) * 1000)
    return times


def one_round(batch: Batch, workdir: Path, rules: Any, args: argparse.Namespace) -> list[Run]:
    """Every tool once over the batch, in turn."""
    ours = run_ours_cli(batch, workdir, args.timeout)
    ours.times_ms = time_ours_in_process(batch, rules)
    runs = [ours]
    if args.headroom_python:
        runs.append(run_headroom(batch, workdir, args.headroom_python, False, args.timeout))
        if not args.no_headroom_cache:
            runs.append(run_headroom(batch, workdir, args.headroom_python, True, args.timeout))
    else:
        runs.append(Run("headroom-ai", None, note="not run: pass --headroom-python"))
    return runs


def combined(rounds: tuple[Run, ...]) -> Run:
    """One tool's rounds as one row: the median wall time, the rounds' per-request medians and
    p99s; the outputs and notes of the last round (every round writes the same outputs)."""
    last = rounds[-1]
    timed = [run for run in rounds if run.times_ms]
    walls = [run.wall_s for run in rounds if run.wall_s]
    return Run(last.name, last.output, statistics.median(walls) if walls else 0.0, last.times_ms, last.note,
               last.startup_s, rounds=len(rounds),
               median_ms=statistics.median(statistics.median(run.times_ms) for run in timed) if timed else None,
               p99_ms=statistics.median(_p99(run.times_ms) for run in timed) if timed else None)


def run_ours_cli(batch: Batch, workdir: Path, timeout: float) -> Run:
    output = workdir / f"{batch.provider}.ours.jsonl"
    command = [str(OURS_CLI), "compress", "--jsonl", "--provider", batch.provider, str(batch.path)]
    with open(output, "w", encoding="utf-8") as out:
        started = time.perf_counter()
        try:
            done = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return Run("ours (headroom compress)", output, note=f"over the {timeout:.0f}s time limit")
        wall = time.perf_counter() - started
    note = "" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr.strip()[-300:]}"
    return Run("ours (headroom compress)", output, wall, note=note, startup_s=_startup_of_ours(workdir, timeout))


def _startup_of_ours(workdir: Path, timeout: float) -> float:
    """Wall time of ``headroom compress --jsonl`` on an empty batch: interpreter, imports, rules."""
    empty = workdir / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    started = time.perf_counter()
    subprocess.run([str(OURS_CLI), "compress", "--jsonl", str(empty)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=timeout)
    return time.perf_counter() - started


def run_headroom(batch: Batch, workdir: Path, python: str, cache: bool, timeout: float) -> Run:
    name = "headroom-ai cache" if cache else "headroom-ai default"
    output = workdir / f"{batch.provider}.headroom{'-cache' if cache else ''}.jsonl"
    # its stores and ledgers go here, fresh for each run, not into the user's home
    state = workdir / f"{output.stem}.state"
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir()
    env = {**os.environ, **HEADROOM_OFFLINE_ENV, "TIKTOKEN_CACHE_DIR": os.environ["TIKTOKEN_CACHE_DIR"],
           "HEADROOM_WORKSPACE_DIR": str(state), "HEADROOM_CONFIG_DIR": str(state)}
    command = [python, str(RUNNER), str(batch.path), str(output)] + (["--cache"] if cache else [])
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=workdir)
    except subprocess.TimeoutExpired:
        return Run(name, None, note=f"not run: over the {timeout:.0f}s time limit")
    wall = time.perf_counter() - started
    try:
        summary = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Run(name, None, wall, note=f"runner failed (exit {done.returncode}): {done.stderr.strip()[-300:]}")
    note = f"headroom-ai {summary['version']}"
    if summary["failed"]:
        note += f"; {summary['failed']} bodies failed and were left unchanged"
    return Run(name, output, wall, summary["times_ms"], note, startup_s=(summary["import_ms"] + sum(summary["times_ms"][:1])) / 1000)


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


class Scorer:
    """bench_traces.py's token ratio, cache-cost ratio and retention, for one tool's outputs."""

    def __init__(self, provider: str) -> None:
        self.wire = by_name(provider)
        self.totals = Totals()
        self.tools: dict[str, ToolTotals] = defaultdict(ToolTotals)
        self._previous: tuple[dict, dict] | None = None
        self._pending: tuple[dict, list[Any], list[str]] | None = None

    def new_session(self) -> None:
        self._previous = self._pending = None

    def add(self, body: dict[str, Any], before: list[int], compressed: dict[str, Any]) -> None:
        after = piece_tokens(compressed)
        totals = self.totals
        totals.requests += 1
        totals.tokens_before += sum(before)
        totals.tokens_after += sum(after)
        if self._previous is not None:
            previous_body, previous_compressed = self._previous
            totals.cache_cost_before += cache_cost(before, identical_prefix(previous_body, body))
            totals.cache_cost_after += cache_cost(after, identical_prefix(previous_compressed, compressed))
        if self._pending is not None:
            _score_retention(self._pending, body, totals, self.tools)
        outputs = self.wire.extract(body)
        new_texts = [output.text for output in self.wire.extract(compressed)]
        self._previous = (body, compressed)
        # the reports bench_traces.py scores: each output with the text sent for it (in order:
        # a tool that drops or reorders outputs leaves some without their sent text)
        sent = new_texts + [""] * (len(outputs) - len(new_texts))
        self._pending = (body, [SimpleNamespace(output=output, text=text) for output, text in zip(outputs, sent)],
                         new_texts)


def score(batch: Batch, runs: list[Run]) -> None:
    """Recount every run's output against the batch, request by request, in one pass."""
    scored = [run for run in runs if run.output is not None]
    scorers = [Scorer(batch.provider) for _ in scored]
    streams = [_lines(run.output) for run in scored]
    last_session = None
    for session, body in zip(batch.sessions, _lines(batch.path)):
        if session != last_session:
            for scorer in scorers:
                scorer.new_session()
            last_session = session
        before = piece_tokens(body)
        for scorer, stream in zip(scorers, streams):
            scorer.add(body, before, next(stream))
    for run, scorer in zip(scored, scorers):
        run.totals = scorer.totals


def print_table(batch: Batch, runs: list[Run]) -> None:
    label = LABELS.get(batch.provider, batch.provider)
    print(f"\n{label}: {len(batch.sessions)} requests, {len(set(batch.sessions))} sessions, "
          f"{batch.path.stat().st_size / 1e6:.1f} MB of JSONL; medians of {runs[0].rounds} rounds")
    header = (f"{'tool':26} {'ratio':>7} {'retention':>9} {'cache-cost':>10} "
              f"{'batch s':>8} {'median ms':>9} {'p99 ms':>8}")
    print(header)
    print("-" * len(header))
    for run in runs:
        t = run.totals
        if t is None:
            print(f"{run.name:26} {run.note}")
            continue
        retention = f"{t.retained / t.wanted:.4f}" if t.wanted else "-"
        median = f"{run.median_ms:.1f}" if run.median_ms is not None else "-"
        p99 = f"{run.p99_ms:.1f}" if run.p99_ms is not None else "-"
        print(f"{run.name:26} {_ratio(t.tokens_after, t.tokens_before):>7} {retention:>9} "
              f"{_ratio(t.cache_cost_after, t.cache_cost_before):>10} {run.wall_s:>8.2f} {median:>9} {p99:>8}")
    if (batch.provider, "cache") in TARGETS:
        print(f"{'target (ours, cache mode)':26} {TARGETS[(batch.provider, 'cache')]}")
    ours = runs[0]
    for theirs in runs[1:]:
        label = f"speed ours / {theirs.name.split()[-1]}" + (" (like for like)" if theirs.name.endswith("cache") else "")
        if theirs.totals is not None and ours.totals is not None and theirs.wall_s:
            ratio = ours.wall_s / theirs.wall_s
            verdict = "met" if ratio <= SPEED_TARGET else "NOT met"
            per_request = (f"; per request {ours.median_ms / theirs.median_ms:.3f} of its median"
                           if ours.median_ms and theirs.median_ms else "")
            print(f"{label:36} {ratio:.3f} of its batch wall time (target <= {SPEED_TARGET}: {verdict}){per_request}")
        else:
            print(f"{label:36} -")
    notes = [f"{run.name}: {run.note}" for run in runs if run.note and run.totals is not None]
    startups = [f"{run.name.split(' (')[0]} {run.startup_s:.2f}s" for run in runs
                if run.startup_s is not None and run.totals is not None]
    if startups:
        notes.append("startup (ours: an empty batch; headroom-ai: import + first call): " + ", ".join(startups))
    for note in notes:
        print(f"  {note}")
    if ours.totals is not None:
        print(f"  retention strings checked: {ours.totals.wanted}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--headroom-python", metavar="PATH",
                        help="a Python interpreter with headroom-ai installed (default: Headroom is not run)")
    parser.add_argument("--rules", help="rule file for ours (default: the shipped rules)")
    parser.add_argument("--limit", type=int, help="at most this many sessions per traffic type")
    parser.add_argument("--max-requests", type=int, help="at most this many requests per session")
    parser.add_argument("--quick", action="store_true", help="a small sample: 3 sessions each, 40 requests each")
    parser.add_argument("--only", choices=("anthropic", "openai-chat"), help="one traffic type only")
    parser.add_argument("--no-headroom-cache", action="store_true", help="skip headroom-ai's cache-mode row")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every tool, medians reported (1..10; 3)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per tool per batch (900)")
    parser.add_argument("--workdir", metavar="DIR", help="keep the batch and every output here (default: a temp dir)")
    args = parser.parse_args(argv)
    if not 1 <= args.repeat <= 10:
        parser.error("--repeat must be between 1 and 10")
    if args.quick:
        args.limit = args.limit or 3
        args.max_requests = args.max_requests or 40

    if bench_traces._trace_bodies().shared_data_dir() is None:
        print(f"trace data not found at {ROOT.parent / 'shared' / 'data'}", file=sys.stderr)
        return 2
    if not OURS_CLI.exists():
        print(f"the headroom command is not installed at {OURS_CLI}", file=sys.stderr)
        return 2
    if args.headroom_python and not Path(args.headroom_python).exists():
        print(f"--headroom-python: no interpreter at {args.headroom_python}", file=sys.stderr)
        return 2
    rules = load_rules(args.rules)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-vs-headroom-") as scratch:
        workdir = Path(args.workdir) if args.workdir else Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        batches = write_batches(workdir, args.limit, args.max_requests, args.quick, args.only)
        print(f"tokenizer={tokenizer_name()}  ours in cache mode  batches in {workdir}")
        for batch in batches:
            rounds = [one_round(batch, workdir, rules, args) for _ in range(args.repeat)]
            runs = [combined(same_tool) for same_tool in zip(*rounds)]
            ours = runs[0]
            if ours.note:
                ours.output = None
                ours.note = f"failed: {ours.note}"
            score(batch, runs)
            print_table(batch, runs)
    print(f"\ntotal wall time {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
