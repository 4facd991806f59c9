"""A tool output reaches the provider as the addon wrote it, and every other byte as sent."""

from __future__ import annotations

import json

import pytest

from . import payloads
from .clients import anthropic_client, httpx_client, openai_client
from .conftest import Proxy, StartProxy
from .fake_provider import FakeProvider
from .harness import wait_for_rows

pytestmark = pytest.mark.e2e


def assert_received(received: bytes, expected: bytes) -> None:
    # The parsed comparison first: its diff says which field changed.
    assert json.loads(received) == json.loads(expected)
    assert received == expected, "same JSON but different bytes: the rewrite re-serialised the body"


def test_anthropic_tool_result_loses_its_ansi_codes(proxy: Proxy, fake: FakeProvider) -> None:
    client, sent = anthropic_client()

    message = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=256, messages=payloads.anthropic_messages(),
        tools=payloads.ANTHROPIC_RETRIEVE,
    )

    assert message.content[0].text == "Hello from the fake."
    received = fake.only_request("/v1/messages")
    assert received.host == "api.anthropic.com"
    assert_received(received.body, payloads.with_tool_output_rewritten(sent.only()))


def test_without_the_retrieve_tool_nothing_lossy_is_done(proxy: Proxy, fake: FakeProvider) -> None:
    """Stripping colour codes drops bytes the model could not get back: not without the tool."""
    client, sent = anthropic_client()

    client.messages.create(model="claude-sonnet-4-5", max_tokens=256, messages=payloads.anthropic_messages())

    assert fake.only_request("/v1/messages").body == sent.only()


def test_openai_chat_tool_message_loses_its_ansi_codes(proxy: Proxy, fake: FakeProvider) -> None:
    client, sent = openai_client()

    completion = client.chat.completions.create(model="gpt-4o", messages=payloads.openai_chat_messages(),
                                                tools=payloads.OPENAI_CHAT_RETRIEVE)

    assert completion.choices[0].message.content == "Hello from the fake."
    received = fake.only_request("/v1/chat/completions")
    assert received.host == "api.openai.com"
    assert_received(received.body, payloads.with_tool_output_rewritten(sent.only()))


def test_openai_responses_function_call_output_loses_its_ansi_codes(proxy: Proxy, fake: FakeProvider) -> None:
    client, sent = openai_client()

    response = client.responses.create(model="gpt-5", input=payloads.responses_input(),
                                       tools=payloads.RESPONSES_RETRIEVE)

    assert response.output_text == "Hello from the fake."
    received = fake.only_request("/v1/responses")
    assert_received(received.body, payloads.with_tool_output_rewritten(sent.only()))


def test_gemini_function_response_loses_its_ansi_codes(proxy: Proxy, fake: FakeProvider) -> None:
    body = payloads.compact_json({"contents": payloads.gemini_contents(), "tools": payloads.GEMINI_RETRIEVE})

    with httpx_client() as client:
        response = client.post(
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent",
            content=body, headers={"content-type": "application/json", "x-goog-api-key": "AIza-test-not-secret"},
        )

    assert response.status_code == 200, response.text
    received = fake.only_request("/v1beta/models/gemini-2.5-pro:generateContent")
    assert received.host == "generativelanguage.googleapis.com"
    assert_received(received.body, payloads.with_tool_output_rewritten(body))


def test_mode_off_logs_the_flow_but_forwards_the_original_bytes(
    start_proxy: StartProxy, fake: FakeProvider
) -> None:
    proxy = start_proxy(options={"headroom_mode": "off"})
    client, sent = anthropic_client()

    client.messages.create(model="claude-sonnet-4-5", max_tokens=256, messages=payloads.anthropic_messages())

    assert fake.only_request("/v1/messages").body == sent.only()
    [flow] = wait_for_rows(proxy.db_path, "flows", 1)
    assert flow["host"] == "api.anthropic.com"
    assert flow["mode"] == "off"
    assert flow["status_code"] == 200


def test_shipped_rules_never_make_a_tool_output_longer(start_proxy: StartProxy, fake: FakeProvider) -> None:
    start_proxy(options={"headroom_rules": ""})  # empty: the rules the addon ships with
    tool_text = payloads.TOOL_TEXT * 40
    client, sent = anthropic_client()

    client.messages.create(model="claude-sonnet-4-5", max_tokens=256, tools=payloads.ANTHROPIC_RETRIEVE,
                           messages=payloads.anthropic_messages(tool_text))

    original, received = json.loads(sent.only()), fake.only_request("/v1/messages").json()
    arrived = received["messages"][2]["content"][0].pop("content")
    original["messages"][2]["content"][0].pop("content")
    assert received == original, "only the tool output may change"
    assert isinstance(arrived, str) and 0 < len(arrived) <= len(tool_text)
    assert "\x1b[" not in arrived
