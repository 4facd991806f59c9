"""Streamed answers reach the agent event by event, and their usage lands in the flow log.

The fake provider sends a stream's first event and then holds the rest until the test's client
has received that event. A proxy that buffers the response never delivers it: the client's read
timeout fails the test (no timing is measured).
"""

from __future__ import annotations

import anthropic
import openai
import pytest

from . import payloads
from .clients import anthropic_client, openai_client
from .conftest import Proxy
from .fake_provider import (
    ANTHROPIC_USAGE,
    OPENAI_CHAT_USAGE,
    OPENAI_RESPONSES_USAGE,
    FakeProvider,
    StreamGate,
)
from .harness import wait_for_rows

pytestmark = pytest.mark.e2e

HELD_BACK = "the first event did not arrive while the provider held the rest: the proxy buffers the stream"


def _anthropic_stream(gate: StreamGate | None = None) -> tuple[list[str], str]:
    client, _ = anthropic_client()
    with client.messages.stream(
        model="claude-sonnet-4-5", max_tokens=256, messages=payloads.anthropic_messages()
    ) as stream:
        events = iter(stream)
        try:
            first = next(events)
        except anthropic.APITimeoutError:
            pytest.fail(HELD_BACK)
        if gate is not None:
            gate.release()
        kinds = [first.type] + [event.type for event in events]
        return kinds, stream.get_final_text()


def _openai_chat_stream(gate: StreamGate | None = None) -> str:
    client, _ = openai_client()
    chunks = client.chat.completions.create(
        model="gpt-4o", messages=payloads.openai_chat_messages(), stream=True,
        stream_options={"include_usage": True},
    )
    try:
        first = next(iter(chunks))
    except openai.APITimeoutError:
        pytest.fail(HELD_BACK)
    if gate is not None:
        gate.release()
    pieces = [first, *chunks]
    return "".join(chunk.choices[0].delta.content or "" for chunk in pieces if chunk.choices)


def test_anthropic_stream_events_arrive_before_the_stream_ends(proxy: Proxy, fake: FakeProvider) -> None:
    gate = fake.hold_next_stream()

    kinds, text = _anthropic_stream(gate)

    assert not gate.timed_out
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert text == "Hello from the fake."


def test_openai_chat_stream_chunks_arrive_before_the_stream_ends(proxy: Proxy, fake: FakeProvider) -> None:
    gate = fake.hold_next_stream()

    text = _openai_chat_stream(gate)

    assert not gate.timed_out
    assert text == "Hello from the fake."


def test_anthropic_stream_usage_is_logged(proxy: Proxy, fake: FakeProvider) -> None:
    _anthropic_stream()

    [flow] = wait_for_rows(proxy.db_path, "flows", 1)
    # Anthropic reports input_tokens without the cache reads and writes: the log's columns
    # (addon/store/models.py) take each number as the provider gives it.
    assert (flow["usage_input"], flow["usage_output"], flow["usage_cache_read"], flow["usage_cache_write"]) == (
        ANTHROPIC_USAGE["input_tokens"], ANTHROPIC_USAGE["output_tokens"],
        ANTHROPIC_USAGE["cache_read_input_tokens"], ANTHROPIC_USAGE["cache_creation_input_tokens"],
    )
    assert flow["provider"] == "anthropic"
    assert flow["model"] == "claude-sonnet-4-5"
    assert flow["status_code"] == 200


def test_openai_chat_stream_usage_is_logged(proxy: Proxy, fake: FakeProvider) -> None:
    _openai_chat_stream()

    [flow] = wait_for_rows(proxy.db_path, "flows", 1)
    usage = OPENAI_CHAT_USAGE
    # usage_input counts tokens billed at the full rate: the prompt minus its cached part.
    assert (flow["usage_input"], flow["usage_output"], flow["usage_cache_read"]) == (
        usage["prompt_tokens"] - usage["cached_tokens"], usage["completion_tokens"], usage["cached_tokens"],
    )
    assert flow["model"] == "gpt-4o"


def test_openai_responses_stream_usage_is_logged(proxy: Proxy, fake: FakeProvider) -> None:
    client, _ = openai_client()
    with client.responses.stream(model="gpt-5", input=payloads.responses_input()) as stream:
        kinds = [event.type for event in stream]
    assert kinds[-1] == "response.completed"

    [flow] = wait_for_rows(proxy.db_path, "flows", 1)
    usage = OPENAI_RESPONSES_USAGE
    # As for Chat: Responses' input_tokens include the cached ones; usage_input does not.
    assert (flow["usage_input"], flow["usage_output"], flow["usage_cache_read"]) == (
        usage["input_tokens"] - usage["cached_tokens"], usage["output_tokens"], usage["cached_tokens"],
    )
