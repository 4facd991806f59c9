"""What a real-agent test checks, as functions that fail with a message saying what went wrong."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any, Sequence

from ..harness import read_rows
from ..scripted_model import ModelScript

__all__ = [
    "command_output", "assert_prefix_kept", "assert_resent_unchanged", "assert_secret_not_stored", "output_of_turn",
    "wait_for_flows",
]

LOG_TIMEOUT_S = 15.0


def command_output(workdir: Path, command: str) -> str:
    """What ``command`` prints in ``workdir`` (stdout then stderr): the agent's tool output, raw."""
    result = subprocess.run(command, shell=True, cwd=workdir, capture_output=True, text=True, timeout=60)
    return result.stdout + result.stderr


def output_of_turn(script: ModelScript, turn_index: int) -> str:
    """The text the provider got for the script's tool call number ``turn_index``, when first sent."""
    for exchange in script.exchanges:
        if exchange.turn_index == turn_index + 1:
            for call_id, text in exchange.tool_outputs.items():
                if f"script{turn_index:02d}n" in call_id and text:
                    return text
    raise AssertionError(
        f"no request carried the output of tool call {turn_index}; requests carried "
        f"{[sorted(exchange.tool_outputs) for exchange in script.exchanges]}"
    )


def assert_resent_unchanged(outputs_by_request: Sequence[dict[str, str]]) -> int:
    """Each tool output a request repeats from the one before is the same text, character for
    character (what the proxy sent once it must send again, or the prompt cache misses).

    Returns how many outputs were compared, so a caller can insist the check compared something.
    """
    compared = 0
    for number, (before, after) in enumerate(zip(outputs_by_request, outputs_by_request[1:]), start=1):
        for call_id, text in before.items():
            if not text or call_id not in after:
                continue
            compared += 1
            if after[call_id] != text:
                prefix = next((i for i, (a, b) in enumerate(zip(text, after[call_id])) if a != b),
                              min(len(text), len(after[call_id])))
                raise AssertionError(
                    f"tool output {call_id} changed between scripted requests {number} and {number + 1} "
                    f"at character {prefix}:\n  before: {text[max(0, prefix - 80):prefix + 120]!r}\n"
                    f"  after:  {after[call_id][max(0, prefix - 80):prefix + 120]!r}"
                )
    return compared


def assert_secret_not_stored(folder: Path, secret: str) -> None:
    """No file under ``folder`` (the flow log and its WAL) holds ``secret``."""
    needle = secret.encode()
    for path in folder.rglob("*"):
        if path.is_file() and needle in path.read_bytes():
            raise AssertionError(f"{path} holds the agent's credential")


def wait_for_flows(db_path: Path, route: str, count: int, timeout: float = LOG_TIMEOUT_S) -> list[dict[str, Any]]:
    """The flow log's rows for ``route`` once it holds ``count`` of them (it is written off the
    event loop). Agents also call other endpoints of the provider hosts, each a row of its own:
    only the conversation's rows are counted."""
    deadline = time.monotonic() + timeout
    rows: list[dict[str, Any]] = []
    while True:
        rows = [row for row in read_rows(db_path, "flows") or [] if row["path"].split("?")[0] == route]
        if len(rows) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(rows) >= count, f"{db_path} holds {len(rows)} flows to {route} after {timeout:.0f}s, expected {count}"
    return rows


def assert_prefix_kept(bodies: Sequence[bytes], key: str) -> int:
    """Each request body starts with the bytes of the one before, up to the end of its last item
    in the array ``key`` (``input``, ``messages``): what a provider's prompt cache matches. The
    proxy rewrites outputs in the raw JSON, so any change it made to an earlier turn shows here.

    Returns how many pairs were compared."""
    for number, (before, after) in enumerate(zip(bodies, bodies[1:]), start=1):
        prefix = before[:_end_of_last_item(before, key)]
        if not after.startswith(prefix):
            at = next(i for i, (a, b) in enumerate(zip(prefix, after)) if a != b) if len(after) >= len(prefix) else 0
            raise AssertionError(f"request {number + 1} does not start with request {number}'s {key} "
                                 f"(first difference at byte {at}):\n  before: {prefix[max(0, at - 120):at + 120]!r}\n"
                                 f"  after:  {after[max(0, at - 120):at + 120]!r}")
    return max(0, len(bodies) - 1)


def _end_of_last_item(raw: bytes, key: str) -> int:
    """The offset just past the last item of the top-level array ``key`` in the JSON ``raw``."""
    text = raw.decode()
    decoder = json.JSONDecoder()

    def skip(index: int) -> int:
        while text[index] in " \t\r\n":
            index += 1
        return index

    index = skip(skip(0) + 1)
    while text[index] != "}":
        name, index = decoder.raw_decode(text, index)
        index = skip(skip(index) + 1)  # past the colon
        if name == key and text[index] == "[":
            end = index + 1
            index = skip(index + 1)
            while text[index] != "]":
                _, end = decoder.raw_decode(text, index)
                index = skip(end)
                index = skip(index + 1) if text[index] == "," else index
            return len(text[:end].encode())
        _, index = decoder.raw_decode(text, index)
        index = skip(index)
        index = skip(index + 1) if text[index] == "," else index
    raise AssertionError(f"the body has no top-level {key!r} array")
