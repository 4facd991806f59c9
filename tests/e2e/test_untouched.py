"""Bodies the addon has no business rewriting reach the provider byte for byte."""

from __future__ import annotations

import pytest

from . import payloads
from .clients import anthropic_client, httpx_client, openai_client
from .conftest import Proxy
from .fake_provider import FakeProvider

pytestmark = pytest.mark.e2e


def test_malformed_json_reaches_the_provider_unchanged(proxy: Proxy, fake: FakeProvider) -> None:
    # Cut mid-way through a tool output that carries ANSI codes: nothing may be "repaired".
    whole = payloads.compact_json({"model": "claude-sonnet-4-5", "max_tokens": 64,
                                   "messages": payloads.anthropic_messages()})
    body = whole[: len(whole) - 40]

    with httpx_client() as client:
        response = client.post("https://api.anthropic.com/v1/messages", content=body,
                               headers={"content-type": "application/json", "x-api-key": "sk-ant-test"})

    assert response.status_code == 400  # the provider's verdict, passed back to the client
    assert fake.only_request("/v1/messages").body == body


def test_count_tokens_body_is_not_rewritten(proxy: Proxy, fake: FakeProvider) -> None:
    client, sent = anthropic_client()

    counted = client.messages.count_tokens(model="claude-sonnet-4-5", messages=payloads.anthropic_messages())

    assert counted.input_tokens == 42
    assert fake.only_request("/v1/messages/count_tokens").body == sent.only()


def test_model_lists_pass_through(proxy: Proxy, fake: FakeProvider) -> None:
    anthropic, _ = anthropic_client()
    openai, _ = openai_client()

    anthropic_models = [model.id for model in anthropic.models.list()]
    openai_models = [model.id for model in openai.models.list()]

    assert anthropic_models == ["claude-sonnet-4-5"]
    assert openai_models == ["gpt-4o"]
    assert [(r.method, r.host, r.path, r.body) for r in fake.requests] == [
        ("GET", "api.anthropic.com", "/v1/models", b""),
        ("GET", "api.openai.com", "/v1/models", b""),
    ]
