"""How long byte-exact write-back takes on large request bodies, next to a plain parse.

    .venv/bin/python scripts/bench_splice.py

Builds Anthropic bodies of about 0.5, 1 and 2 MB from the largest Claude Code trace in
../shared/data (or from synthetic tool outputs when it is absent) and prints, per size, the
median time of: json.loads, extract, splice of the newest tool output, splice of every output.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from headroom_mitm.addon.providers import for_request  # noqa: E402
from headroom_mitm.addon.providers._splice import splice  # noqa: E402
from trace_bodies import claude_code_requests, claude_code_trace_files  # noqa: E402

ANTHROPIC = for_request("api.anthropic.com", "/v1/messages")


def base_body() -> dict[str, Any]:
    files = claude_code_trace_files()
    if files:
        largest = max(files, key=lambda p: p.stat().st_size)
        return max(claude_code_requests(largest), key=lambda body: len(body["messages"]))
    messages: list[dict[str, Any]] = [{"role": "user", "content": "start"}]
    for turn in range(200):
        messages.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": f"toolu_{turn}", "name": "Bash", "input": {"command": f"ls {turn}"}}]})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"toolu_{turn}", "content": f"file_{turn}.py\n" * 300}]})
    return {"model": "claude-opus-4-6", "max_tokens": 32000, "messages": messages, "stream": True}


def grow(body: dict[str, Any], target_bytes: int) -> str:
    """Repeat the conversation's middle until the body reaches the target size."""
    messages = body["messages"]
    grown = list(messages)
    while len(json.dumps({**body, "messages": grown}, ensure_ascii=False)) < target_bytes:
        grown = grown[:-1] + messages[1:-1] + grown[-1:]
    return json.dumps({**body, "messages": grown}, ensure_ascii=False)


def median_ms(action: Callable[[], object], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    body = base_body()
    print(f"{'size':>8} {'outputs':>8} {'json.loads':>11} {'extract':>9} {'splice 1':>9} {'splice all':>11}")
    for target in (500_000, 1_000_000, 2_000_000):
        raw = grow(body, target)
        doc = json.loads(raw)
        outputs = ANTHROPIC.extract(doc)
        newest = {outputs[-1].path: outputs[-1].text[:100]}
        every = {o.path: o.text[:100] for o in outputs}
        row = [
            median_ms(lambda: json.loads(raw)),
            median_ms(lambda: ANTHROPIC.extract(doc)),
            median_ms(lambda: splice(raw, newest)),
            median_ms(lambda: splice(raw, every)),
        ]
        print(f"{len(raw) / 1e6:>6.2f}MB {len(outputs):>8} " + " ".join(
            f"{value:>{width}.1f}" for value, width in zip(row, (11, 9, 9, 11))) + "  ms")


if __name__ == "__main__":
    main()
