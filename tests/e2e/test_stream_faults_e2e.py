"""A streamed answer that does not end well is logged as such: an upstream that drops the
connection mid-answer keeps the status and the usage already read, and a client that hangs up
while the provider stalls is not logged as a clean, finished answer."""

from __future__ import annotations

import time

import httpx
import pytest

from . import payloads
from .clients import httpx_client
from .conftest import Proxy
from .fake_provider import ANTHROPIC_USAGE, FakeProvider
from .harness import wait_for_rows

pytestmark = pytest.mark.e2e


def _stream_request(client: httpx.Client):
    body = payloads.compact_json({"model": "claude-sonnet-4-5", "max_tokens": 64, "stream": True,
                                  "messages": payloads.anthropic_messages()})
    return client.stream("POST", "https://api.anthropic.com/v1/messages", content=body, headers={
        "content-type": "application/json", "x-api-key": "sk-ant-api03-test-key-not-secret",
        "anthropic-version": "2023-06-01", "accept": "text/event-stream",
    })


def test_a_stream_the_upstream_cuts_keeps_its_status_and_the_usage_read(proxy: Proxy, fake: FakeProvider) -> None:
    fake.cut_next_stream(after_events=4)  # message_start, a block, a ping, one text delta
    received = b""
    with httpx_client() as client, _stream_request(client) as response:
        assert response.status_code == 200
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            for chunk in response.iter_raw():
                received += chunk
    assert b"message_start" in received and b"message_stop" not in received

    [flow] = wait_for_rows(proxy.db_path, "flows", 1)
    assert flow["status_code"] == 200
    assert (flow["usage_input"], flow["usage_cache_read"], flow["usage_cache_write"]) == (
        ANTHROPIC_USAGE["input_tokens"], ANTHROPIC_USAGE["cache_read_input_tokens"],
        ANTHROPIC_USAGE["cache_creation_input_tokens"])
    assert flow["stop_reason"] is None
    assert flow["error"] and "stream ended early" in flow["error"], flow
    assert "Traceback" not in proxy.output(), proxy.output()


def test_a_client_that_hangs_up_while_the_provider_stalls_is_not_a_clean_end_turn(
    proxy: Proxy, fake: FakeProvider
) -> None:
    gate = fake.hold_next_stream()
    with httpx_client() as client, _stream_request(client) as response:
        assert response.status_code == 200
        first = next(response.iter_raw())
        assert b"message_start" in first
    # the client is gone; the provider now sends the rest of its answer, which nobody reads
    deadline = time.monotonic() + 10
    while "disconnect" not in proxy.output().lower() and time.monotonic() < deadline:
        time.sleep(0.1)
    gate.release()

    [flow] = wait_for_rows(proxy.db_path, "flows", 1)
    assert flow["stop_reason"] != "end_turn", flow
    assert flow["error"] and "client disconnected" in flow["error"].lower(), flow
    assert "Traceback" not in proxy.output(), proxy.output()
