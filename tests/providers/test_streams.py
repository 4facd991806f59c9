"""Response parsing: usage, stop reason and tool calls, whatever the chunking, never raising."""

from __future__ import annotations

import json
import random
from dataclasses import asdict

import pytest

from headroom_mitm.addon.providers import ResponseSummary, ToolCall, Usage, by_name, summary_from_ws_message

from .conftest import fixture_bytes, load_fixture

EXPECTED = {
    "anthropic_stream.sse": ("anthropic", ResponseSummary(
        usage=Usage(input_tokens=46203, output_tokens=87, cache_read_tokens=45000, cache_write_tokens=1200),
        stop_reason="tool_use", model="claude-opus-4-6", response_id="msg_01XYZ",
        tool_calls=[ToolCall("toolu_01A", "Bash", '{"command": "ls -la"}'), ToolCall("toolu_01B", "TodoRead", "{}")],
        events=13,
    )),
    "openai_chat_stream.sse": ("openai-chat", ResponseSummary(
        usage=Usage(input_tokens=2500, output_tokens=40, cache_read_tokens=2048),
        stop_reason="tool_calls", model="gpt-4.1-2025-04-14", response_id="chatcmpl-1",
        tool_calls=[ToolCall("call_X", "shell", '{"command": "ls – é"}'), ToolCall("call_Y", "read", "{}")],
        events=5,
    )),
    "openai_responses_stream.sse": ("openai-responses", ResponseSummary(
        usage=Usage(input_tokens=9000, output_tokens=120, cache_read_tokens=8704, reasoning_tokens=64),
        stop_reason="completed", model="gpt-5-codex", response_id="resp_1",
        tool_calls=[ToolCall("call_1", "shell", '{"command":["bash","-lc","grep -rn ü src"]}'),
                    ToolCall("call_2", "apply_patch", "*** Begin Patch\n*** End Patch")],
        events=11,
    )),
    "gemini_stream.sse": ("gemini", ResponseSummary(
        usage=Usage(input_tokens=5000, output_tokens=42, cache_read_tokens=4096, reasoning_tokens=12),
        stop_reason="STOP", model="gemini-2.5-pro", response_id="r-1",
        tool_calls=[ToolCall("", "run_shell_command", '{"command":"ls"}'),
                    ToolCall("fc-9", "read_file", '{"path":"a.txt"}')],
        events=2,
    )),
}
EXPECTED["gemini_stream_array.json"] = EXPECTED["gemini_stream.sse"]


def parse(name: str, chunks: list[bytes]) -> ResponseSummary:
    parser = by_name(name).stream_parser()
    for chunk in chunks:
        parser.feed(chunk)
    return parser.close()


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_recorded_stream_in_one_chunk(fixture: str) -> None:
    name, expected = EXPECTED[fixture]
    assert parse(name, [fixture_bytes(fixture)]) == expected


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_split_at_every_byte_boundary_gives_the_same_summary(fixture: str) -> None:
    name, expected = EXPECTED[fixture]
    data = fixture_bytes(fixture)
    for cut in range(1, len(data)):
        assert parse(name, [data[:cut], data[cut:]]) == expected, f"split at byte {cut}"


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_byte_by_byte_and_random_chunks(fixture: str) -> None:
    name, expected = EXPECTED[fixture]
    data = fixture_bytes(fixture)
    assert parse(name, [data[i:i + 1] for i in range(len(data))]) == expected
    rng = random.Random(fixture)
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(data)), 12))
        chunks = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
        assert parse(name, chunks) == expected


@pytest.mark.parametrize("name", ["anthropic", "openai-chat", "openai-responses", "gemini"])
def test_garbage_never_raises(name: str) -> None:
    rng = random.Random(name)
    samples = [
        b"\xff\xfe\x00garbage\n\n", b"data: {not json}\n\n", b"data: [1,2]\n\n", b"data: null\n\n",
        b'data: {"type": "message_start", "message": 5}\n\n',
        b'data: {"type": "content_block_delta", "index": "x", "delta": []}\n\n',
        b'data: {"choices": [{"delta": {"tool_calls": [null, 3, {"index": []}]}}], "usage": 7}\n\n',
        b'data: {"type": "response.completed", "response": {"usage": {"input_tokens": "many"}}}\n\n',
        b'data: {"candidates": {"a": 1}, "usageMetadata": []}\n\n',
        b"[{]", b"\r\n\r\n", b"event: \xc3\n", b"data: " + b"x" * 100_000,
    ]
    samples += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) for _ in range(200)]
    parser = by_name(name).stream_parser()
    for chunk in samples:
        parser.feed(chunk)
    summary = parser.close()
    assert isinstance(summary, ResponseSummary)


@pytest.mark.parametrize("name", ["anthropic", "openai-chat", "openai-responses", "gemini"])
def test_garbage_before_a_real_stream_does_not_hide_later_events(name: str) -> None:
    fixture = {"anthropic": "anthropic_stream.sse", "openai-chat": "openai_chat_stream.sse",
               "openai-responses": "openai_responses_stream.sse", "gemini": "gemini_stream.sse"}[name]
    parser = by_name(name).stream_parser()
    parser.feed(b"data: {broken\n\n: comment\n\n")
    parser.feed(fixture_bytes(fixture))
    assert parser.close().usage == EXPECTED[fixture][1].usage


def test_anthropic_error_event_is_reported() -> None:
    parser = by_name("anthropic").stream_parser()
    parser.feed(b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n')
    assert parser.close().error == "Overloaded"


def test_stream_cut_short_still_reports_what_arrived() -> None:
    data = fixture_bytes("anthropic_stream.sse")
    cut = data.index(b"event: message_delta")
    summary = parse("anthropic", [data[:cut]])
    assert summary.usage.cache_read_tokens == 45000
    assert summary.stop_reason is None
    assert [call.name for call in summary.tool_calls] == ["Bash", "TodoRead"]


# --- complete JSON responses -------------------------------------------------------------------

def test_anthropic_json_response() -> None:
    doc = {"id": "msg_1", "type": "message", "model": "claude-haiku-4-5", "stop_reason": "tool_use",
           "content": [{"type": "text", "text": "ok"},
                       {"type": "tool_use", "id": "toolu_9", "name": "Read", "input": {"file_path": "a"}}],
           "usage": {"input_tokens": 10, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 100,
                     "output_tokens": 7}}
    fmt = by_name("anthropic")
    assert fmt.usage_from_response(doc) == Usage(input_tokens=115, output_tokens=7, cache_read_tokens=100, cache_write_tokens=5)
    summary = fmt.summary_from_response(doc)
    assert summary.tool_calls == [ToolCall("toolu_9", "Read", '{"file_path":"a"}')]
    assert summary.usage.uncached_input_tokens == 10
    assert fmt.summary_from_response({"type": "error", "error": {"message": "invalid x-api-key"}}).error == "invalid x-api-key"


def test_openai_chat_json_response() -> None:
    doc = {"id": "c1", "model": "gpt-4o", "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 32}}}
    summary = by_name("openai-chat").summary_from_response(doc)
    assert (summary.usage, summary.stop_reason, summary.tool_calls) == (
        Usage(input_tokens=50, output_tokens=5, cache_read_tokens=32), "tool_calls", [ToolCall("call_1", "f", "{}")])


def test_responses_json_response_incomplete() -> None:
    doc = {"id": "resp_2", "object": "response", "model": "gpt-5", "status": "incomplete",
           "incomplete_details": {"reason": "max_output_tokens"},
           "output": [{"type": "function_call", "call_id": "call_7", "name": "shell", "arguments": "{\"c\":1}"}],
           "usage": {"input_tokens": 20, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 3}}
    summary = by_name("openai-responses").summary_from_response(doc)
    assert summary.stop_reason == "max_output_tokens"
    assert summary.tool_calls == [ToolCall("call_7", "shell", '{"c":1}')]
    assert summary.usage == Usage(input_tokens=20, output_tokens=3)


def test_gemini_json_array_response() -> None:
    doc = load_fixture("gemini_stream_array.json")
    assert by_name("gemini").summary_from_response(doc) == EXPECTED["gemini_stream.sse"][1]


@pytest.mark.parametrize("name", ["anthropic", "openai-chat", "openai-responses", "gemini"])
@pytest.mark.parametrize("doc", [None, "x", [], {}, {"usage": "lots", "content": 5, "choices": [None]}])
def test_odd_json_responses_never_raise(name: str, doc: object) -> None:
    assert isinstance(by_name(name).summary_from_response(doc), ResponseSummary)


# --- Responses over WebSocket ------------------------------------------------------------------

def ws_frames() -> list[str]:
    text = fixture_bytes("openai_responses_stream.sse").decode("utf-8")
    return [line[len("data: "):] for line in text.splitlines() if line.startswith("data: ")]


def test_websocket_frames_one_event_at_a_time_match_the_sse_stream() -> None:
    parser = by_name("openai-responses").stream_parser()
    for frame in ws_frames():
        parser.feed_event(frame)
    assert parser.summary == EXPECTED["openai_responses_stream.sse"][1]


def test_summary_from_one_websocket_frame() -> None:
    completed = ws_frames()[-1]
    summary = summary_from_ws_message(completed)
    assert summary.usage.cache_read_tokens == 8704
    assert summary.stop_reason == "completed"
    assert summary_from_ws_message("not json").events == 0
    assert summary_from_ws_message(json.dumps({"type": "error", "error": {"message": "rate limited"}})).error == "rate limited"


def test_summary_is_a_plain_dataclass_for_the_log() -> None:
    summary = parse("anthropic", [fixture_bytes("anthropic_stream.sse")])
    assert json.loads(json.dumps(asdict(summary)))["usage"]["output_tokens"] == 87
