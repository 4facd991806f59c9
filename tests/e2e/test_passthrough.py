"""A host that is not a provider is passed through raw: its own certificate, no flow logged."""

from __future__ import annotations

import socket
import ssl

import pytest

from .clients import anthropic_client
from .conftest import Proxy
from .fake_provider import OTHER_HOST, OTHER_HOST_BODY, FakeProvider, FakePKI
from .harness import read_rows, wait_for_rows

pytestmark = pytest.mark.e2e


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _get_through_connect(proxy: Proxy, host: str, port: int, path: str) -> tuple[bytes, bytes]:
    """CONNECT through the proxy, speak TLS to ``host``: (the server certificate, the response)."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as raw:
        raw.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        head = _read_until(raw, b"\r\n\r\n")
        assert head.split(b"\r\n")[0].split()[1] == b"200", head
        context = ssl.create_default_context(cafile=str(proxy.ca_bundle))
        with context.wrap_socket(raw, server_hostname=host) as tls:
            certificate = tls.getpeercert(binary_form=True)
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            response = b""
            while chunk := tls.recv(65536):
                response += chunk
    assert certificate is not None
    return certificate, response


def test_other_host_keeps_its_own_certificate_and_is_not_logged(
    proxy: Proxy, fake: FakeProvider, pki: FakePKI
) -> None:
    certificate, response = _get_through_connect(proxy, OTHER_HOST, fake.port, "/other")

    assert certificate == pki.leaf_cert_der, "the client saw the proxy's certificate, not the host's own"
    assert response.startswith(b"HTTP/1.1 200") and response.endswith(OTHER_HOST_BODY)
    assert fake.only_request("/other").host == OTHER_HOST

    # A provider call afterwards is logged; the log then holds it and nothing for the other host.
    client, _ = anthropic_client()
    client.messages.create(model="claude-sonnet-4-5", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    wait_for_rows(proxy.db_path, "flows", 1)
    flows = read_rows(proxy.db_path, "flows")
    assert [flow["host"] for flow in flows or []] == ["api.anthropic.com"]
