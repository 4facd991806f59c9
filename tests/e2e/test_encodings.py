"""Compressed request bodies (Codex sends zstd) are decoded, rewritten and re-encoded alike."""

from __future__ import annotations

import gzip

import pytest
import zstandard

from . import payloads
from .clients import httpx_client
from .conftest import Proxy
from .fake_provider import FakeProvider

pytestmark = pytest.mark.e2e

ENCODERS = {
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
    "gzip": gzip.compress,
}


@pytest.mark.parametrize(
    ("encoding", "url"),
    [
        ("zstd", "https://chatgpt.com/backend-api/codex/responses"),
        ("gzip", "https://api.openai.com/v1/responses"),
    ],
)
def test_encoded_body_is_rewritten_and_reencoded(
    proxy: Proxy, fake: FakeProvider, encoding: str, url: str
) -> None:
    body = payloads.compact_json({
        "model": "gpt-5-codex", "instructions": "You are a coding agent.", "stream": True,
        "store": False, "input": payloads.responses_input(), "tools": payloads.RESPONSES_RETRIEVE,
    })

    with httpx_client() as client:
        response = client.post(url, content=ENCODERS[encoding](body), headers={
            "content-type": "application/json", "content-encoding": encoding,
            "accept": "text/event-stream",
        })

    assert response.status_code == 200, response.text
    assert "response.completed" in response.text
    [received] = fake.requests
    assert received.header("content-encoding") == encoding
    assert received.decoded_body() == payloads.with_tool_output_rewritten(body)
