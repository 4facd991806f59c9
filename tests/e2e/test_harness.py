"""The harness itself, through plain mitmdump (no addon): if these fail, e2e failures are ours."""

from __future__ import annotations

import json

import httpx
import pytest

from .conftest import StartProxy
from .fake_provider import FakeProvider

pytestmark = pytest.mark.e2e


def test_provider_host_reaches_the_fake_under_its_real_name(start_proxy: StartProxy, fake: FakeProvider) -> None:
    start_proxy(with_addon=False)
    body = json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 5,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()

    with httpx.Client(timeout=10) as client:  # HTTPS_PROXY and SSL_CERT_FILE from the fixture
        response = client.post("https://api.anthropic.com/v1/messages", content=body,
                               headers={"content-type": "application/json"})

    assert response.status_code == 200, response.text
    received = fake.only_request("/v1/messages")
    assert received.host == "api.anthropic.com"
    assert received.body == body


def test_a_buffering_proxy_is_caught_by_the_stream_gate(start_proxy: StartProxy, fake: FakeProvider) -> None:
    """Plain mitmdump holds whole responses: the first event never arrives while the fake waits."""
    start_proxy(with_addon=False)
    gate = fake.hold_next_stream()
    body = json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 5, "stream": True,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()

    with httpx.Client(timeout=httpx.Timeout(10, read=3)) as client:
        with pytest.raises(httpx.ReadTimeout):
            with client.stream("POST", "https://api.anthropic.com/v1/messages", content=body,
                               headers={"content-type": "application/json"}) as response:
                for _ in response.iter_lines():
                    break

    assert gate.first_event_sent.is_set(), "the fake should have sent its first event"
    gate.release()
