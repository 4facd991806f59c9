#!/usr/bin/env python3
"""Replay the agent traces in ../shared/data/traces through the pipeline and print what it saves.

Claude Code transcripts become Anthropic Messages bodies (one per assistant turn, with everything
before it); mini-swe-agent runs become OpenAI Chat bodies twice: with a ``bash`` tool call per
step, and as mini-swe-agent 1.x really sends them (each command in a ```bash block of the
reply, its output a user message). Each traffic type is split by session into a tuning half and
a checking half (``trace_bodies.split_by_session``), reported apart: rules are tuned on the first,
the second says whether that generalises. Every figure uses one tokenizer, o200k_base:

- token ratio: input tokens after / before, summed over requests (system + messages text);
- retention: strings of 5+ characters (identifiers, paths, numbers) that the agent used in its
  very next output and could only have read in a tool result of that request: the share still
  present after compression (a path counts when each of its segments is). A string a marker's
  ref stands for counts as lost, even with ``--retrieval declared``: retention says what the
  model reads without calling ``headroom_retrieve``. "+by ref" adds the lost strings whose
  output carries a marker with a ref, which the model can read back only by calling the tool
  (nothing here checks that it would);
- cache-cost ratio: over consecutive requests k, k+1 of a session, 0.1 x the tokens of k+1's
  prefix identical to k + 1.25 x the rest, compressed over original;
- time per request (parse + compress_body): median and p99.

    python scripts/bench_traces.py               # the full dev set, cache mode, both halves
    python scripts/bench_traces.py --quick       # a CI-sized sample
    python scripts/bench_traces.py --only mini-swe-text --half checking
    python scripts/bench_traces.py --mode token --rules my-rules.yaml --limit 3
    python scripts/bench_traces.py --quick --dump-jsonl batch.jsonl   # then: time headroom compress --jsonl batch.jsonl
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(ROOT.parent / "shared" / "data" / "tiktoken"))

from headroom_mitm.addon.compress.markers import MARKER_RE  # noqa: E402
from headroom_mitm.addon.conversation import preamble, turns, visible_text  # noqa: E402
from headroom_mitm.addon.pipeline import compress_body  # noqa: E402
from headroom_mitm.addon.providers import by_name  # noqa: E402
from headroom_mitm.addon.tokens import count_tokens, tokenizer_name  # noqa: E402
from headroom_mitm.rules import load_rules  # noqa: E402

# Figures of headroom-ai 0.42 on these traces (the whole dev set), and the targets, per traffic.
HEADROOM = {"claude-code": (0.718, 0.979, 0.842, 18.0), "mini-swe-tools": (0.996, 0.996, 0.995, 82.0)}
TARGETS = {
    ("claude-code", "cache"): "ratio<=0.75 retention>=0.998 cache-cost<=0.78",
    ("mini-swe-tools", "cache"): "ratio<=0.90 retention>=0.998 cache-cost<=0.92",
    ("mini-swe-text", "cache"): "ratio<=0.90 retention>=0.998",
    ("claude-code", "token"): "checking half: ratio<=0.62 retention>=0.99",
}
LABELS = {"claude-code": "Claude Code -> anthropic", "mini-swe-tools": "mini-swe tool calls -> chat",
          "mini-swe-text": "mini-swe 1.x text -> chat"}
WIRES = {"claude-code": "anthropic", "mini-swe-tools": "openai-chat", "mini-swe-text": "openai-chat"}
HALVES = ("tuning", "checking")

_CANDIDATE = re.compile(r"[A-Za-z0-9_./\-]{5,}")


def _trace_bodies() -> Any:
    path = ROOT / "tests" / "trace_bodies.py"
    spec = importlib.util.spec_from_file_location("trace_bodies", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Totals:
    requests: int = 0
    tokens_before: int = 0
    tokens_after: int = 0
    cache_cost_before: float = 0.0
    cache_cost_after: float = 0.0
    wanted: int = 0
    retained: int = 0
    recoverable: int = 0
    """Strings not retained whose output now carries a marker with a ref: the model gets them
    back only by calling headroom_retrieve on it."""
    times_ms: list[float] = field(default_factory=list)


@dataclass
class ToolTotals:
    outputs: int = 0
    tokens_before: int = 0
    tokens_after: int = 0
    wanted: int = 0
    retained: int = 0


def piece_tokens(doc: dict[str, Any]) -> list[int]:
    """Tokens of each piece of a body: the preamble entries, then one per message."""
    return [count_tokens(visible_text(piece)) for piece in preamble(doc) + turns(doc)]


def identical_prefix(previous: dict[str, Any], current: dict[str, Any]) -> int:
    """How many leading pieces of ``current`` equal ``previous``'s (what the prompt cache reuses)."""
    a, b = preamble(previous) + turns(previous), preamble(current) + turns(current)
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def cache_cost(tokens: list[int], prefix: int) -> float:
    return 0.1 * sum(tokens[:prefix]) + 1.25 * sum(tokens[prefix:])


def candidates(text: str) -> set[str]:
    found = set()
    for match in _CANDIDATE.findall(text):
        word = match.strip("./-")
        if len(word) >= 5 and (any(c.isalnum() for c in word)):
            found.add(word)
    return found


def present(word: str, texts: list[str]) -> bool:
    if "/" in word:
        return all(any(seg in t for t in texts) for seg in word.split("/") if seg)
    return any(word in t for t in texts)


def next_output_text(message: dict[str, Any]) -> str:
    """What the agent wrote in a reply: its text and its tool calls' arguments, decoded (a
    command's line break is a line break, not the ``\\n`` of its JSON, which would make
    ``\\nimport`` look like a word ``nimport``)."""
    content = message.get("content")
    parts = [content] if isinstance(content, str) else []
    for block in content if isinstance(content, list) else []:
        if isinstance(block, dict):
            if block.get("type") == "text":
                parts.append(block.get("text") or "")
            elif block.get("type") == "tool_use":
                parts.extend(_json_words(block.get("input")))
    for call in message.get("tool_calls") or []:
        arguments = ((call.get("function") or {}).get("arguments")) or ""
        try:
            parts.extend(_json_words(json.loads(arguments)))
        except ValueError:
            parts.append(arguments)
    return "\n".join(parts)


def _json_words(value: Any, values: bool = True) -> Iterator[str]:
    """The object keys anywhere inside a JSON value, and its string values unless ``values`` is
    False."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _json_words(inner, values)
    elif isinstance(value, list):
        for inner in value:
            yield from _json_words(inner, values)
    elif isinstance(value, str) and values:
        yield value


def replay(wire_name: str, bodies: Iterator[dict[str, Any]], rules: Any, mode: str,
           totals: Totals, tools: dict[str, ToolTotals], max_requests: int | None,
           dump: Any = None, lossy: bool = True) -> None:
    wire = by_name(wire_name)
    previous: tuple[dict, dict, list[int], list[int]] | None = None
    pending: tuple[dict, list[Any], list[str]] | None = None  # request k, its outputs, their new texts
    for count, body in enumerate(bodies):
        if max_requests is not None and count >= max_requests:
            break
        raw = json.dumps(body)
        if dump is not None:
            dump.write(raw + "\n")
        started = time.perf_counter()
        doc = json.loads(raw)
        outcome = compress_body(raw, doc, wire, rules, mode, lossy=lossy)
        totals.times_ms.append((time.perf_counter() - started) * 1000)
        compressed = json.loads(outcome.text) if outcome.text is not raw else doc
        before, after = piece_tokens(body), piece_tokens(compressed)
        totals.requests += 1
        totals.tokens_before += sum(before)
        totals.tokens_after += sum(after)
        for report in outcome.outputs:
            tool = tools[report.output.tool_name or "?"]
            tool.outputs += 1
            tool.tokens_before += report.tokens_before
            tool.tokens_after += report.tokens_after
        if previous is not None:
            prev_body, prev_compressed, _, _ = previous
            totals.cache_cost_before += cache_cost(before, identical_prefix(prev_body, body))
            totals.cache_cost_after += cache_cost(after, identical_prefix(prev_compressed, compressed))
        if pending is not None:
            _score_retention(pending, body, totals, tools)
        previous = (body, compressed, before, after)
        pending = (body, outcome.outputs, [r.text for r in outcome.outputs])


def _score_retention(pending: tuple[dict, list[Any], list[str]], next_body: dict[str, Any],
                     totals: Totals, tools: dict[str, ToolTotals]) -> None:
    body, reports, new_texts = pending
    messages = turns(body)
    following = turns(next_body)
    if len(following) <= len(messages) or not isinstance(following[len(messages)], dict):
        return
    reply = following[len(messages)]
    if reply.get("role") != "assistant":
        return
    used = candidates(next_output_text(reply))
    if not used:
        return
    originals = [r.output.text for r in reports]
    tool_text = {r.output.text for r in reports}
    other_text = "\n".join(_texts_outside_tool_results(body, tool_text))
    for word in used:
        if word in other_text or not present(word, originals):
            continue
        source = next((r.output.tool_name or "?" for r in reports if present(word, [r.output.text])),
                      "(spread over outputs)")
        kept = present(word, new_texts)
        totals.wanted += 1
        totals.retained += kept
        totals.recoverable += not kept and any(
            _has_ref(r.text) for r in reports if present(word, [r.output.text]))
        tools[source].wanted += 1
        tools[source].retained += kept


def _has_ref(text: str) -> bool:
    return any(match["ref"] for match in MARKER_RE.finditer(text))


def _texts_outside_tool_results(body: dict[str, Any], tool_text: set[str]) -> Iterator[str]:
    """Every string of the body that is not a tool output's text (system, prompts, replies).

    A tool call's arguments are shown to the model as JSON, keys included (``file_path``,
    ``limit``, ``old_string``): OpenAI sends them as that JSON string already, and an Anthropic
    ``tool_use`` input's keys are yielded here so both formats count the same text.
    """
    stack: list[Any] = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item not in tool_text:
                yield item
        elif isinstance(item, dict):
            if item.get("type") == "tool_use":
                yield from _json_words(item.get("input"), values=False)
            stack.extend(v for k, v in item.items() if k not in ("signature", "data"))
        elif isinstance(item, list):
            stack.extend(item)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b else "-"


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))] if ordered else 0.0


def print_tables(results: dict[tuple[str, str], tuple[Totals, dict[str, ToolTotals]]], mode: str,
                 elapsed: float) -> None:
    print(f"\nmode={mode}  tokenizer={tokenizer_name()}  wall time {elapsed:.1f}s\n")
    header = (f"{'traffic':30} {'half':>8} {'requests':>8} {'ratio':>7} {'retention':>9} {'+by ref':>7} "
              f"{'checked':>7} {'cache-cost':>10} {'median ms':>9} {'p99 ms':>7}")
    print(header)
    print("-" * len(header))
    for traffic in dict.fromkeys(key for key, _ in results):
        for half in HALVES:
            if (traffic, half) not in results:
                continue
            t = results[(traffic, half)][0]
            retention = f"{t.retained / t.wanted:.4f}" if t.wanted else "-"
            by_ref = f"{(t.retained + t.recoverable) / t.wanted:.4f}" if t.wanted else "-"
            print(f"{LABELS.get(traffic, traffic):30} {half:>8} {t.requests:>8} "
                  f"{_ratio(t.tokens_after, t.tokens_before):>7} {retention:>9} {by_ref:>7} {t.wanted:>7} "
                  f"{_ratio(t.cache_cost_after, t.cache_cost_before):>10} "
                  f"{statistics.median(t.times_ms) if t.times_ms else 0:>9.1f} {_p99(t.times_ms):>7.1f}")
        if traffic in HEADROOM:
            r, ret, cc, ms = HEADROOM[traffic]
            print(f"{'  headroom-ai 0.42, all':30} {'':>8} {'':>8} {r:>7.3f} {ret:>9.3f} {'':>7} {'':>7} {cc:>10.3f} {ms:>9.0f}")
        if (traffic, mode.split()[0]) in TARGETS:
            print(f"{'  target':30} {TARGETS[(traffic, mode.split()[0])]}")
    for (traffic, half), (_, tools) in results.items():
        print(f"\nper tool, {LABELS.get(traffic, traffic)}, {half} half (tool-output tokens summed over requests)")
        print(f"{'tool':24} {'outputs':>8} {'before':>11} {'after':>11} {'ratio':>7} {'retention':>11}")
        for name, tool in sorted(tools.items(), key=lambda kv: -kv[1].tokens_before)[:15]:
            retention = f"{tool.retained}/{tool.wanted}" if tool.wanted else "-"
            print(f"{name[:24]:24} {tool.outputs:>8} {tool.tokens_before:>11} {tool.tokens_after:>11} "
                  f"{_ratio(tool.tokens_after, tool.tokens_before):>7} {retention:>11}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("cache", "token", "off"), default="cache")
    parser.add_argument("--rules", help="rule file (default: the shipped rules)")
    parser.add_argument("--limit", type=int, help="at most this many sessions per traffic type and half")
    parser.add_argument("--max-requests", type=int, help="at most this many requests per session")
    parser.add_argument("--quick", action="store_true", help="a small sample: 3 sessions each, 40 requests each")
    parser.add_argument("--only", choices=tuple(LABELS), help="replay one traffic type only")
    parser.add_argument("--retrieval", choices=("declared", "absent"), default="declared",
                        help="declared: every request lists headroom_retrieve, as with `headroom mcp` registered, "
                        "so lossy steps run; absent: lossless steps only, as for an agent without it")
    parser.add_argument("--half", choices=HALVES + ("both",), default="both",
                        help="the tuning half, the checking half, or both (reported apart)")
    parser.add_argument("--dump-jsonl", metavar="FILE",
                        help="also write every replayed body, one per line (to time `headroom compress --jsonl` "
                        "and other tools on the same batch)")
    args = parser.parse_args(argv)
    if args.quick:
        args.limit = args.limit or 3
        args.max_requests = args.max_requests or 40

    traces = _trace_bodies()
    if traces.shared_data_dir() is None:
        print(f"trace data not found at {ROOT.parent / 'shared' / 'data'}", file=sys.stderr)
        return 2
    rules = load_rules(args.rules)
    sources: list[tuple[str, Callable[[Path], Iterator[dict]], list[Path]]] = [
        ("claude-code", traces.claude_code_requests, traces.claude_code_trace_files()),
        ("mini-swe-tools", traces.mini_swe_requests, traces.mini_swe_trace_files()),
        ("mini-swe-text", traces.mini_swe_text_requests, traces.mini_swe_trace_files()),
    ]
    dump = open(args.dump_jsonl, "w", encoding="utf-8") if args.dump_jsonl else None
    started = time.perf_counter()
    results: dict[tuple[str, str], tuple[Totals, dict[str, ToolTotals]]] = {}
    for traffic, builder, all_files in sources:
        if args.only and traffic != args.only:
            continue
        for half, files in zip(HALVES, traces.split_by_session(all_files)):
            if args.half not in ("both", half):
                continue
            if args.quick:  # the longest sessions, cut short: a small sample with every tool in it
                files = sorted(files, key=lambda p: -p.stat().st_size)
            totals, tools = Totals(), defaultdict(ToolTotals)
            for path in files[: args.limit] if args.limit else files:
                replay(WIRES[traffic], builder(path), rules, args.mode, totals, tools, args.max_requests, dump,
                       lossy=args.retrieval == "declared")
            results[(traffic, half)] = (totals, tools)
    if dump is not None:
        dump.close()
    print_tables(results, f"{args.mode}  retrieval={args.retrieval}", time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
