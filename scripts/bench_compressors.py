"""Measure every compressor on the real tool outputs in ../shared/data/traces.

    .venv/bin/python scripts/bench_compressors.py            # table per tool and per kind
    .venv/bin/python scripts/bench_compressors.py --json     # the same figures for scripts
    .venv/bin/python scripts/bench_compressors.py --max-per-group 400 --compressor line_numbers

Tool outputs come from Claude Code transcripts (``tool_result`` blocks, tool name and
arguments from the ``tool_use`` before them) and mini-swe-agent runs (each
``<returncode>..`` user message is the output of a ``bash`` call). Tokens are o200k_base.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
TRACES = DATA / "traces"
sys.path.insert(0, str(REPO))

from headroom_mitm.addon.compress import REGISTRY, run  # noqa: E402
from headroom_mitm.addon.compress._base import Context  # noqa: E402
from headroom_mitm.addon.compress.kinds import detect_kind  # noqa: E402
from headroom_mitm.addon.tokens import count_tokens  # noqa: E402
from headroom_mitm.addon.tool_output import ToolOutput  # noqa: E402
from headroom_mitm.rules import RuleSet, load_rules  # noqa: E402

# Which compressors are worth trying on which kind of output; "ansi", "long_lines" and the
# conversation-aware ones apply to everything.
APPLICABLE: dict[str, tuple[str, ...]] = {
    "json": ("json_table", "json_sample"),
    "log": ("log", "traceback"),
    "test": ("log", "traceback"),
    "search": ("search", "paths"),
    "diff": ("diff",),
    "file_read": ("line_numbers",),
    "text": ("log", "listing", "paths", "ls_long", "traceback"),
}
EVERYWHERE = ("ansi", "long_lines", "dedupe", "reread", "exit_status")


@dataclass
class TraceOutput:
    source: str
    session: str
    tool_name: str
    arguments: Any
    call_id: str
    text: str
    is_error: bool = False
    earlier_outputs: dict[str, str] = field(default_factory=dict)
    earlier_reads: dict[str, tuple[str, str]] = field(default_factory=dict)


def _block_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _read_path(arguments: Any) -> str | None:
    if isinstance(arguments, dict):
        for key in ("file_path", "path", "filename"):
            if isinstance(arguments.get(key), str):
                return arguments[key]
    return None


def _claude_code(path: Path) -> Iterator[TraceOutput]:
    calls: dict[str, tuple[str, Any]] = {}
    earlier_outputs: dict[str, str] = {}
    earlier_reads: dict[str, tuple[str, str]] = {}
    for line in path.open(encoding="utf-8"):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        message = entry.get("message") if isinstance(entry, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_use":
                calls[block.get("id", "")] = (block.get("name", ""), block.get("input"))
            elif block.get("type") == "tool_result":
                call_id = block.get("tool_use_id", "")
                name, arguments = calls.get(call_id, ("", None))
                text = _block_text(block.get("content"))
                yield TraceOutput("claude-code", path.stem, name, arguments, call_id, text,
                                  bool(block.get("is_error")), dict(earlier_outputs), dict(earlier_reads))
                digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
                earlier_outputs.setdefault(digest, call_id)
                read_path = _read_path(arguments)
                if name == "Read" and read_path:
                    earlier_reads[read_path] = (call_id, text)


def _mini_swe_agent(path: Path) -> Iterator[TraceOutput]:
    try:
        run_log = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return
    earlier_outputs: dict[str, str] = {}
    command = ""
    for index, message in enumerate(run_log.get("messages", [])):
        text = _block_text(message.get("content"))
        if message.get("role") == "assistant":
            command = text.rsplit("```bash", 1)[-1].split("```", 1)[0].strip() if "```bash" in text else ""
        elif message.get("role") == "user" and text.startswith("<returncode>"):
            call_id = f"step-{index}"
            yield TraceOutput("mini-swe-agent", path.stem, "bash", {"command": command}, call_id, text,
                              False, dict(earlier_outputs), {})
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
            earlier_outputs.setdefault(digest, call_id)


def iter_tool_outputs(root: Path = TRACES) -> Iterator[TraceOutput]:
    """Every tool output in the traces, in conversation order within each session."""
    for path in sorted((root / "claude-code").rglob("*.jsonl")):
        yield from _claude_code(path)
    for path in sorted((root / "mini-swe-agent").glob("*.traj.json")):
        yield from _mini_swe_agent(path)


def pipeline(output: TraceOutput) -> str:
    """What the shipped rules send for this output in cache mode, on its own: the chain its rule
    names (``seen_lines`` has no earlier texts here, so it never fires)."""
    ctx = _context(output)
    kind = detect_kind(output.text, output.tool_name, output.arguments)
    provider = "anthropic" if output.source == "claude-code" else "openai-chat"
    as_output = ToolOutput(provider, (), output.text, output.tool_name, output.arguments, output.call_id, output.is_error)
    decision = _shipped_rules().decide(as_output, kind, count_tokens(output.text), "")
    text = output.text
    if decision.action == "compress":
        for step in decision.steps:
            text = run(step.name, text, step.params, ctx).text
    return text


@lru_cache(maxsize=1)
def _shipped_rules() -> RuleSet:
    return load_rules(None)


def _context(output: TraceOutput) -> Context:
    return Context(tool_name=output.tool_name, arguments=output.arguments, call_id=output.call_id,
                   is_error=output.is_error, earlier_outputs=output.earlier_outputs,
                   earlier_reads=output.earlier_reads)


@dataclass
class Tally:
    count: int = 0
    before: int = 0
    after: int = 0
    seconds: list[float] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        ordered = sorted(self.seconds)
        return {"count": self.count, "tokens_before": self.before, "tokens_after": self.after,
                "ratio": round(self.after / self.before, 3) if self.before else 1.0,
                "median_ms": round(statistics.median(ordered) * 1000, 3) if ordered else 0.0,
                "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3) if ordered else 0.0}


def measure(max_per_group: int, only: str | None) -> dict[str, dict[str, dict[str, Any]]]:
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(DATA / "tiktoken"))
    import tiktoken

    encoding = tiktoken.get_encoding("o200k_base")
    token_cache: dict[str, int] = {}

    def tokens(text: str) -> int:
        if text not in token_cache:
            token_cache[text] = len(encoding.encode(text, disallowed_special=()))
        return token_cache[text]

    tallies: dict[str, dict[str, Tally]] = defaultdict(lambda: defaultdict(Tally))
    seen: dict[tuple[str, str], int] = defaultdict(int)
    for output in iter_tool_outputs():
        group = (output.source, output.tool_name or "?")
        seen[group] += 1
        if seen[group] > max_per_group:
            continue
        kind = detect_kind(output.text, output.tool_name, output.arguments)
        names = [only] if only else [*APPLICABLE[kind], *EVERYWHERE]
        before = tokens(output.text)
        ctx = _context(output)
        results: dict[str, tuple[str, float]] = {}
        for name in names:
            started = time.perf_counter()
            text = run(name, output.text, None, ctx).text
            results[name] = (text, time.perf_counter() - started)
        if not only:
            started = time.perf_counter()
            results["pipeline"] = (pipeline(output), time.perf_counter() - started)
        for name, (text, seconds) in results.items():
            for key in (f"{output.source} tool={output.tool_name or '?'}", f"{output.source} kind={kind}"):
                tally = tallies[key][name]
                tally.count += 1
                tally.before += before
                tally.after += tokens(text)
                tally.seconds.append(seconds)
    return {group: {name: tally.row() for name, tally in by_name.items()} for group, by_name in sorted(tallies.items())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-per-group", type=int, default=400,
                        help="outputs measured per (source, tool), to keep the run to seconds (default 400)")
    parser.add_argument("--compressor", choices=sorted(REGISTRY), help="measure only this compressor")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not TRACES.is_dir():
        print(f"traces not found at {TRACES}", file=sys.stderr)
        return 1
    figures = measure(args.max_per_group, args.compressor)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    header = f"{'group':<42} {'compressor':<13} {'count':>6} {'before':>9} {'after':>9} {'ratio':>6} {'med ms':>7} {'p99 ms':>7}"
    print(header)
    print("-" * len(header))
    for group, by_name in figures.items():
        for name, row in sorted(by_name.items(), key=lambda item: item[1]["ratio"]):
            print(f"{group:<42} {name:<13} {row['count']:>6} {row['tokens_before']:>9} {row['tokens_after']:>9} "
                  f"{row['ratio']:>6.3f} {row['median_ms']:>7.2f} {row['p99_ms']:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
