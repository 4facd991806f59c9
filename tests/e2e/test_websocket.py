"""Codex's WebSocket transport: ``response.create`` messages are rewritten like HTTP bodies."""

from __future__ import annotations

import json
import ssl

import pytest
from websockets.sync.client import connect

from . import payloads
from .conftest import Proxy
from .fake_provider import OPENAI_RESPONSES_USAGE, FakeProvider
from .harness import wait_for_rows

pytestmark = pytest.mark.e2e

CODEX_URL = "wss://chatgpt.com/backend-api/codex/responses"


def _codex_turn(proxy: Proxy, *messages: str) -> list[dict]:
    """Send response.create messages over one socket through the proxy, each after the previous
    one completed; the server's events up to the last response.completed."""
    context = ssl.create_default_context(cafile=str(proxy.ca_bundle))
    events = []
    with connect(
        CODEX_URL, proxy=proxy.url, ssl=context, open_timeout=15, close_timeout=5,
        additional_headers={"Authorization": "Bearer codex-session-token", "OpenAI-Beta": "responses=experimental"},
    ) as socket:
        for message in messages:
            socket.send(message)
            events.append(json.loads(socket.recv(timeout=10)))
            while events[-1]["type"] != "response.completed":
                events.append(json.loads(socket.recv(timeout=10)))
    return events


def _response_create() -> str:
    return payloads.compact_json({
        "type": "response.create", "model": "gpt-5-codex", "instructions": "You are a coding agent.",
        "store": False, "input": payloads.responses_input(), "tools": payloads.RESPONSES_RETRIEVE,
    }).decode()


def test_codex_response_create_is_rewritten_once_the_login_was_billed_unmodified(
    proxy: Proxy, fake: FakeProvider
) -> None:
    """A ChatGPT login is a subscription: the proxy rewrites its turns once one unmodified turn
    was answered (the ``verify`` policy), never before."""
    message = _response_create()

    first = _codex_turn(proxy, message)
    second = _codex_turn(proxy, message)

    assert first[0]["type"] == second[0]["type"] == "response.created"
    unmodified, rewritten = fake.wait_for_ws_messages(2)
    assert unmodified.host == rewritten.host == "chatgpt.com"
    assert unmodified.text == message
    assert rewritten.text.encode() == payloads.with_tool_output_rewritten(message.encode())


def test_a_later_turn_on_the_socket_keeps_the_tools_an_earlier_one_declared(proxy: Proxy, fake: FakeProvider) -> None:
    """Codex declares its tools once per socket (an incremental turn lists only new input)."""
    first = _response_create()
    later = payloads.compact_json({
        "type": "response.create", "model": "gpt-5-codex", "previous_response_id": "resp_1",
        "store": False, "input": payloads.responses_input()[-1:],
    }).decode()

    _codex_turn(proxy, first, later)

    received = fake.wait_for_ws_messages(2)
    assert received[1].text.encode() == payloads.with_tool_output_rewritten(later.encode())


def test_codex_websocket_turn_is_logged_with_its_usage(proxy: Proxy, fake: FakeProvider) -> None:
    _codex_turn(proxy, _response_create())

    [flow] = wait_for_rows(proxy.db_path, "flows", 1)
    assert flow["transport"] == "websocket"
    assert flow["host"] == "chatgpt.com"
    assert flow["usage_output"] == OPENAI_RESPONSES_USAGE["output_tokens"]
    assert flow["usage_cache_read"] == OPENAI_RESPONSES_USAGE["cached_tokens"]
