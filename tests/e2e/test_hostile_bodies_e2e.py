"""Bodies built to hurt a proxy: a small body that decodes to gigabytes, JSON nested ten thousand
deep. Each goes upstream exactly as the client sent it, its flow row says why, mitmdump prints no
traceback, and a decompression bomb never drives mitmdump's memory up."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterator

import brotli
import pytest
import zstandard

from . import payloads
from .clients import httpx_client
from .conftest import Proxy
from .fake_provider import FakeProvider, Verdict
from .harness import wait_for_rows

pytestmark = pytest.mark.e2e

BOMB_DECODED_BYTES = 1 << 30
RSS_LIMIT_MB = 400
MESSAGES_URL = "https://api.anthropic.com/v1/messages"


def _zeros(total: int, step: int = 1 << 20) -> Iterator[bytes]:
    # a JSON object's start, then a string of zeros that never ends within the bomb
    yield b'{"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "'
    for _ in range(total // step):
        yield b"0" * step


def _zstd_bomb() -> bytes:
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    return b"".join([*(compressor.compress(piece) for piece in _zeros(BOMB_DECODED_BYTES)), compressor.flush()])


def _gzip_bomb() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return b"".join([*(compressor.compress(piece) for piece in _zeros(BOMB_DECODED_BYTES)), compressor.flush()])


def _brotli_bomb() -> bytes:
    compressor = brotli.Compressor(quality=5)
    return b"".join([*(compressor.process(piece) for piece in _zeros(BOMB_DECODED_BYTES)), compressor.finish()])


BOMBS: dict[str, Callable[[], bytes]] = {"zstd": _zstd_bomb, "gzip": _gzip_bomb, "br": _brotli_bomb}


def _post(body: bytes, headers: dict[str, str]):
    with httpx_client() as client:
        return client.post(MESSAGES_URL, content=body, headers={
            "content-type": "application/json", "x-api-key": "sk-ant-api03-test-key-not-secret",
            "anthropic-version": "2023-06-01", **headers,
        })


@pytest.mark.parametrize("encoding", sorted(BOMBS))
def test_a_decompression_bomb_goes_upstream_untouched_and_memory_stays_low(
    proxy: Proxy, fake: FakeProvider, encoding: str
) -> None:
    bomb = BOMBS[encoding]()
    assert len(bomb) < 2_000_000  # a small upload...
    # ...that a real provider refuses as too large; the fake does so without decoding it either
    fake.judge = lambda request: Verdict(refuse_status=413, refuse_body={"type": "error", "error": {
        "type": "request_too_large", "message": "Request exceeds the maximum allowed size"}})

    response = _post(bomb, {"content-encoding": encoding})

    assert response.status_code == 413, response.text
    [received] = fake.requests_to("/v1/messages")
    assert received.body == bomb and received.header("content-encoding") == encoding
    [flow] = wait_for_rows(proxy.db_path, "flows", 1)
    assert "decodes to more than 64 MiB" in flow["error"] and "forwarded unmodified" in flow["error"], flow
    assert flow["tool_outputs"] == 0 and flow["status_code"] == 413
    resident, peak = proxy.process.memory_mb()
    assert peak < RSS_LIMIT_MB, f"mitmdump reached {peak:.0f} MB refusing a {encoding} bomb"
    output = proxy.output()
    assert "forwarded unmodified: its" in output and encoding in output, output
    assert "Traceback" not in output and "Addon error" not in output, output


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_json_nested_deeper_than_any_client_sends_goes_upstream_untouched(
    proxy: Proxy, fake: FakeProvider, depth: int
) -> None:
    body = payloads.compact_json({
        "model": "claude-sonnet-4-5", "max_tokens": 64, "messages": payloads.anthropic_messages(),
        "tools": payloads.ANTHROPIC_RETRIEVE,
    })
    body = body[:-1] + b',"metadata":{"deep":' + _nested(depth).encode() + b"}}"

    response = _post(body, {})

    assert response.status_code == 400  # the provider, not the proxy, says the body is bad
    [received] = fake.requests_to("/v1/messages")
    assert received.body == body
    [flow] = wait_for_rows(proxy.db_path, "flows", 1)
    assert "nested too deep" in flow["error"] and "forwarded unmodified" in flow["error"], flow
    output = proxy.output()
    assert "Traceback" not in output and "Addon error" not in output and "RecursionError" not in output, output


def test_a_compressed_body_under_the_limit_is_still_rewritten(proxy: Proxy, fake: FakeProvider) -> None:
    """The bound must not stop ordinary encoded bodies from being compressed."""
    body = payloads.compact_json({
        "model": "claude-sonnet-4-5", "max_tokens": 64, "messages": payloads.anthropic_messages(),
        "tools": payloads.ANTHROPIC_RETRIEVE,
    })

    response = _post(gzip.compress(body), {"content-encoding": "gzip"})

    assert response.status_code == 200, response.text
    [received] = fake.requests_to("/v1/messages")
    assert received.header("content-encoding") == "gzip"
    assert received.decoded_body() == payloads.with_tool_output_rewritten(body)
    assert json.loads(received.decoded_body())["messages"]
