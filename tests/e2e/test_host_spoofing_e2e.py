"""A request is a provider call by where it really goes, not by what its Host header claims.

A plain-HTTP request to a local service that says ``Host: api.anthropic.com`` reaches that
service byte for byte and is not logged as Anthropic; the real provider, reached over TLS, still is.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from . import payloads
from .clients import anthropic_client, httpx_client
from .conftest import Proxy
from .fake_provider import FakeProvider
from .harness import read_rows, wait_for_rows

pytestmark = pytest.mark.e2e


class _LocalService(http.server.ThreadingHTTPServer):
    """Some plain-HTTP service on loopback; it keeps the bodies it got."""

    daemon_threads = True

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _Recorder)


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _LocalService

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.server.bodies.append(self.rfile.read(int(self.headers.get("content-length") or 0)))
        answer = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def local_service() -> Iterator[_LocalService]:
    server = _LocalService()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_spoofed_host_header_to_a_local_service_is_neither_rewritten_nor_logged(
    proxy: Proxy, fake: FakeProvider, local_service: _LocalService
) -> None:
    body = payloads.compact_json({
        "model": "claude-sonnet-4-5", "max_tokens": 64, "messages": payloads.anthropic_messages(),
        "tools": payloads.ANTHROPIC_RETRIEVE,
    })
    assert payloads.with_tool_output_rewritten(body) != body  # the proxy would rewrite it for Anthropic

    with httpx_client() as client:  # HTTP_PROXY: an absolute-form request to 127.0.0.1
        response = client.post(
            f"http://127.0.0.1:{local_service.server_address[1]}/v1/messages", content=body,
            headers={"host": "api.anthropic.com", "content-type": "application/json",
                     "x-api-key": "sk-ant-api03-test-key-not-secret"},
        )

    assert response.status_code == 200 and response.json() == {"ok": True}
    assert local_service.bodies == [body]
    assert fake.requests == []

    # the real provider afterwards is logged, and is the only row
    client, _ = anthropic_client()
    client.messages.create(model="claude-sonnet-4-5", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    wait_for_rows(proxy.db_path, "flows", 1)
    flows = read_rows(proxy.db_path, "flows") or []
    assert [(flow["host"], flow["tool_outputs"]) for flow in flows] == [("api.anthropic.com", 0)]
