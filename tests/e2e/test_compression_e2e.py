"""With the shipped rules, what an agent resends reaches the provider smaller, and nothing is lost.

All tests share one proxy running the rules the package ships (``headroom_rules`` empty). Each
test uses its own model name, so its rows in the shared flow log are told apart by model.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest

from . import payloads
from .clients import anthropic_client, httpx_client
from .conftest import Proxy
from .fake_provider import GEMINI_USAGE, FakeProvider
from .harness import MITMDUMP, TIKTOKEN_CACHE_DIR, read_rows

pytestmark = pytest.mark.e2e

HEADROOM = MITMDUMP.with_name("headroom")
CLI_TIMEOUT_S = 60.0
LOG_TIMEOUT_S = 15.0
HELD_BACK = "the first event did not arrive while the provider held the rest: the proxy buffers the stream"

_NUMBERED_RUN = re.compile(r"\[headroom: lines numbered (\d+)-(\d+) arrow\]")
_LOG_MARKER = re.compile(r"\[headroom: log [^\[\]#\n]*#([0-9a-f]{12})\]")


@pytest.fixture(scope="module")
def shipped_rules_proxy(start_module_proxy) -> Proxy:
    return start_module_proxy(options={"headroom_rules": ""}, name="shipped-rules")


@pytest.fixture
def proxy(shipped_rules_proxy: Proxy, use_proxy) -> Proxy:
    return use_proxy(shipped_rules_proxy)


# --------------------------------------------------------------------------------------------
# helpers


def tool_result_texts(body: dict[str, Any]) -> list[str]:
    """The text of every tool_result in an Anthropic body, in order."""
    texts = []
    for message in body["messages"]:
        if not isinstance(message["content"], list):
            continue
        for block in message["content"]:
            if block.get("type") != "tool_result":
                continue
            content = block["content"]
            texts.append(content if isinstance(content, str) else content[0]["text"])
    return texts


def renumber(compacted: str) -> str:
    """Put Claude Code's ``     N→`` prefixes back from the run markers, as a reader of the marker would."""
    out: list[str] = []
    lines = compacted.split("\n")
    index = 0
    while index < len(lines):
        match = _NUMBERED_RUN.fullmatch(lines[index])
        if match is None:
            out.append(lines[index])
            index += 1
            continue
        first, last = int(match[1]), int(match[2])
        run = lines[index + 1 : index + 2 + last - first]
        out += [f"{first + k:>6}→{line}" for k, line in enumerate(run)]
        index += 2 + last - first
    return "\n".join(out)


def headroom(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HEADROOM), *args], capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
        env={"TIKTOKEN_CACHE_DIR": str(TIKTOKEN_CACHE_DIR), "PATH": "/usr/bin:/bin"},
    )


def wait_for_flows(db_path: Path, model: str, count: int) -> list[dict[str, Any]]:
    """The logged flows of ``model`` once there are ``count`` of them (bounded wait)."""
    deadline = time.monotonic() + LOG_TIMEOUT_S
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = [row for row in read_rows(db_path, "flows") or [] if row["model"] == model]
        if len(rows) >= count and all(row["tokens_after"] is not None for row in rows):
            return rows
        time.sleep(0.1)
    raise AssertionError(f"expected {count} flows of {model} in {db_path} within {LOG_TIMEOUT_S:.0f}s, got {rows!r}")


def wait_for_original(ref: str, db_path: Path) -> str:
    """What ``headroom original REF`` prints, once the asynchronous log write has landed."""
    deadline = time.monotonic() + LOG_TIMEOUT_S
    while True:
        result = headroom("original", ref, "--db", str(db_path))
        if result.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert result.returncode == 0, f"headroom original {ref} failed: {result.stderr}"
    return result.stdout


# --------------------------------------------------------------------------------------------
# 1. a Claude Code session under the shipped rules


def test_claude_code_session_reaches_the_provider_compressed(proxy: Proxy, fake: FakeProvider) -> None:
    model = "claude-sonnet-4-5"
    source = payloads.python_source(200)
    read, log, records = payloads.claude_code_read(source), payloads.build_log(), payloads.api_records(50)
    client, sent = anthropic_client()

    client.messages.create(model=model, max_tokens=256, tools=payloads.ANTHROPIC_RETRIEVE,
                           messages=payloads.claude_code_session(read, log, records))

    received = fake.only_request("/v1/messages")
    arrived_read, arrived_log, arrived_records = tool_result_texts(received.json())
    assert len(arrived_read) < len(read) and len(arrived_log) < len(log) and len(arrived_records) < len(records)
    assert renumber(arrived_read) == read, "the numbered lines of the Read output cannot be rebuilt"
    for error_line in payloads.LOG_ERROR_LINES:
        assert error_line in arrived_log.split("\n"), f"the log lost an error line: {error_line}"
    assert "SKU-00049" in arrived_records and "Widget model 0" in arrived_records
    expected = payloads.with_tool_outputs_replaced(
        sent.only(), [(read, arrived_read), (log, arrived_log), (records, arrived_records)]
    )
    assert received.body == expected, "bytes outside the tool outputs changed"

    [flow] = wait_for_flows(proxy.db_path, model, 1)
    assert flow["provider"] == "anthropic"
    assert flow["tokens_before"] > flow["tokens_after"] > 0

    stats = headroom("stats", str(proxy.db_path), "--json")
    assert stats.returncode == 0, stats.stderr
    [row] = [row for row in json.loads(stats.stdout)["rows"] if row["model"] == model]
    assert row["provider"] == "anthropic"
    assert row["saved_percent"] > 0


def test_repeated_conversation_resends_the_same_prefix_bytes(proxy: Proxy, fake: FakeProvider) -> None:
    model = "claude-haiku-4-5"
    read, log, records = (payloads.claude_code_read(payloads.python_source(200)), payloads.build_log(),
                          payloads.api_records(50))
    first_turns = payloads.claude_code_session(read, log, records)
    next_turns = first_turns + [
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_04Bash", "name": "Bash", "input": {"command": "make test"}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_04Bash", "content": payloads.build_log(90)},
        ]},
    ]
    client, _ = anthropic_client()

    client.messages.create(model=model, max_tokens=256, messages=first_turns)
    client.messages.create(model=model, max_tokens=256, messages=next_turns)

    first, second = fake.requests_to("/v1/messages")
    last_tool_result = tool_result_texts(first.json())[-1]
    assert len(last_tool_result) < len(records), "the first request was not compressed"
    [escaped] = {form for form in payloads.json_string_forms(last_tool_result) if first.body.count(form) == 1}
    prefix_end = first.body.index(escaped) + len(escaped)
    assert second.body[:prefix_end] == first.body[:prefix_end], (
        "the second request rewrote the earlier turns differently: the prompt cache would miss"
    )
    assert len(tool_result_texts(second.json())) == 4


# --------------------------------------------------------------------------------------------
# 2. what a lossy compressor drops is kept


def test_elided_log_lines_come_back_with_headroom_original(proxy: Proxy, fake: FakeProvider) -> None:
    log = payloads.varied_log(3000)
    client, _ = anthropic_client()

    client.messages.create(model="claude-opus-4-1", max_tokens=256, messages=payloads.anthropic_messages(log),
                           tools=payloads.ANTHROPIC_RETRIEVE)

    [arrived] = tool_result_texts(fake.only_request("/v1/messages").json())
    refs = _LOG_MARKER.findall(arrived)
    assert refs, f"no [headroom: log ... #ref] marker upstream:\n{arrived[:2000]}"
    assert len(arrived) < len(log) // 10
    assert "billing-0 ERROR invoice 88121 could not be rendered: timeout" in arrived
    restored = arrived
    for ref in refs:
        marker_line = next(line for line in arrived.split("\n") if line.endswith(f"#{ref}]"))
        restored = restored.replace(marker_line, wait_for_original(ref, proxy.db_path), 1)
    assert restored == log, "the originals behind the markers do not rebuild the tool output"


# --------------------------------------------------------------------------------------------
# 5. brotli bodies and Gemini streams


def test_brotli_body_is_rewritten_and_reencoded(proxy: Proxy, fake: FakeProvider) -> None:
    log = payloads.build_log()
    body = payloads.compact_json({"model": "claude-sonnet-4-0", "max_tokens": 256,
                                  "tools": payloads.ANTHROPIC_RETRIEVE, "messages": payloads.anthropic_messages(log)})

    with httpx_client() as client:
        response = client.post("https://api.anthropic.com/v1/messages", content=brotli.compress(body), headers={
            "content-type": "application/json", "content-encoding": "br",
            "x-api-key": "sk-ant-test-not-secret", "anthropic-version": "2023-06-01",
        })

    assert response.status_code == 200, response.text
    received = fake.only_request("/v1/messages")
    assert received.header("content-encoding") == "br"
    [arrived] = tool_result_texts(received.json())
    assert len(arrived) < len(log)
    assert received.decoded_body() == payloads.with_tool_outputs_replaced(body, [(log, arrived)])


def test_gemini_stream_arrives_event_by_event_and_its_usage_is_logged(proxy: Proxy, fake: FakeProvider) -> None:
    model = "gemini-2.5-flash"
    body = payloads.compact_json({"contents": payloads.gemini_contents(payloads.build_log())})
    gate = fake.hold_next_stream()

    with httpx_client() as client, client.stream(
        "POST", f"https://generativelanguage.googleapis.com/v1beta/models/{model}:streamGenerateContent?alt=sse",
        content=body, headers={"content-type": "application/json", "x-goog-api-key": "AIza-test-not-secret"},
    ) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        try:
            first = next(line for line in lines if line.startswith("data: "))
        except httpx.ReadTimeout:
            pytest.fail(HELD_BACK)
        gate.release()
        events = [first] + [line for line in lines if line.startswith("data: ")]

    assert not gate.timed_out
    text = "".join(json.loads(event[6:])["candidates"][0]["content"]["parts"][0]["text"] for event in events)
    assert (len(events), text) == (3, "Hello from the fake.")
    [flow] = wait_for_flows(proxy.db_path, model, 1)
    assert (flow["provider"], flow["usage_input"], flow["usage_output"], flow["usage_cache_read"]) == (
        "gemini", GEMINI_USAGE["prompt"] - GEMINI_USAGE["cached"], GEMINI_USAGE["candidates"], GEMINI_USAGE["cached"],
    )
