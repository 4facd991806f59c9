"""Run headroom-ai's ``compress`` over a JSONL batch of request bodies, under headroom-ai's own interpreter.

Executed by scripts/bench_vs_headroom.py as a subprocess of another Python (the one that has
headroom-ai installed), so that package never becomes a dependency of this project. It imports
nothing from this repository.

    python _headroom_runner.py IN.jsonl OUT.jsonl [--cache]

Each input line is one request body (Anthropic Messages or OpenAI Chat). Its ``messages`` go
through ``headroom.compress``; the body is written back with the compressed messages and every
other key as it was, one line per input line, in order. A line that fails is written back
unchanged and counted. The last line on stdout is a JSON summary: the version, the time of
each line in milliseconds and the number of failures. A line's time is the same work
``headroom compress --jsonl`` does for it: parsing the line, finding the frozen prefix in cache
mode, ``compress``, and writing the body back as JSON text.

``--cache`` passes ``frozen_message_count`` = the previous request's message count whenever a
request extends the previous one, with the previously returned messages in that prefix: each
earlier turn is frozen in the form first sent, as a prompt-cache-aware caller would do.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

DEFAULT_MODEL = "claude-sonnet-4-5-20250929"


def _extends(messages: list[Any], previous: list[Any] | None) -> bool:
    return previous is not None and len(messages) >= len(previous) and messages[: len(previous)] == previous


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    source, target, cache_mode = argv[0], argv[1], "--cache" in argv[2:]
    started = time.perf_counter()
    from headroom import compress
    from headroom._version import __version__

    import_ms = (time.perf_counter() - started) * 1000
    times_ms: list[float] = []
    failed = 0
    previous_in: list[Any] | None = None
    previous_out: list[Any] | None = None
    with open(source, encoding="utf-8") as lines, open(target, "w", encoding="utf-8") as out:
        for number, line in enumerate(lines, start=1):
            try:
                tick = time.perf_counter()
                body = json.loads(line)
                messages = body["messages"]
                frozen, given = 0, messages
                if cache_mode and _extends(messages, previous_in):
                    frozen = len(previous_in)
                    given = previous_out + messages[frozen:]
                result = compress(given, model=body.get("model") or DEFAULT_MODEL, frozen_message_count=frozen)
                compressed = list(result.messages)
                compressed[:frozen] = given[:frozen]  # a frozen turn goes out exactly as first sent
                previous_in, previous_out = messages, compressed
                written = json.dumps({**body, "messages": compressed}, ensure_ascii=False) + "\n"
                times_ms.append((time.perf_counter() - tick) * 1000)
                out.write(written)
            except Exception as exc:  # one bad line must not lose the batch
                failed += 1
                print(f"line {number}: {type(exc).__name__}: {exc}", file=sys.stderr)
                out.write(line if line.endswith("\n") else line + "\n")
    print(json.dumps({"version": __version__, "import_ms": import_ms, "times_ms": times_ms, "failed": failed}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
