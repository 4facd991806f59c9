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


def _codex_turn(proxy: Proxy, message: str) -> list[dict]:
    """Send one response.create over the proxy; the server's events up to response.completed."""
    context = ssl.create_default_context(cafile=str(proxy.ca_bundle))
    events = []
    with connect(
        CODEX_URL, proxy=proxy.url, ssl=context, open_timeout=15, close_timeout=5,
        additional_headers={"Authorization": "Bearer codex-session-token", "OpenAI-Beta": "responses=experimental"},
    ) as socket:
        socket.send(message)
        while not events or events[-1]["type"] != "response.completed":
            events.append(json.loads(socket.recv(timeout=10)))
    return events


def _response_create() -> str:
    return payloads.compact_json({
        "type": "response.create", "model": "gpt-5-codex", "instructions": "You are a coding agent.",
        "store": False, "input": payloads.responses_input(),
    }).decode()


def test_codex_response_create_is_rewritten(proxy: Proxy, fake: FakeProvider) -> None:
    message = _response_create()

    events = _codex_turn(proxy, message)

    assert events[0]["type"] == "response.created"
    [received] = fake.wait_for_ws_messages(1)
    assert received.host == "chatgpt.com"
    assert received.text.encode() == payloads.with_tool_output_rewritten(message.encode())


def test_codex_websocket_turn_is_logged_with_its_usage(proxy: Proxy, fake: FakeProvider) -> None:
    _codex_turn(proxy, _response_create())

    [flow] = wait_for_rows(proxy.db_path, "flows", 1)
    assert flow["transport"] == "websocket"
    assert flow["host"] == "chatgpt.com"
    assert flow["usage_output"] == OPENAI_RESPONSES_USAGE["output_tokens"]
    assert flow["usage_cache_read"] == OPENAI_RESPONSES_USAGE["cached_tokens"]
