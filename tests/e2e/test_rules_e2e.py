"""A user's rules file decides which hosts are intercepted and is followed as it is edited."""

from __future__ import annotations

import re
import socket
import ssl
import time
from pathlib import Path
from typing import Any, Callable

import anthropic
import pytest

from . import payloads
from .clients import anthropic_client
from .conftest import Proxy, StartProxy
from .fake_provider import OTHER_HOST, OTHER_HOST_BODY, RULES_ADDED_HOST, FakePKI, FakeProvider
from .harness import read_rows, wait_for_rows

pytestmark = pytest.mark.e2e

RELOAD_TIMEOUT_S = 10.0
"""The watcher re-stats the file at most once a second; a few seconds cover a slow machine."""

STRIP_ANSI = """\
version: 1
rules:
  - name: strip-ansi
    compress: ansi
"""
STRIP_ANSI_BUT_PROTECT_BASH = """\
version: 1
protected_tools: [Bash]
rules:
  - name: strip-ansi
    compress: ansi
"""
BROKEN_LINE = 5
BROKEN = """\
version: 1
protected_tools: [Bash]
rules:
  - name: strip-ansi
    compress: [ansi
"""

GREP_TEXT = "\x1b[35msrc/parser.py\x1b[0m:\x1b[32m12\x1b[0m:def parse(text):\n"


# --------------------------------------------------------------------------------------------
# 3. hosts added by a rules file


@pytest.fixture(scope="module")
def gateway_proxy(start_module_proxy, tmp_path_factory: pytest.TempPathFactory) -> Proxy:
    rules = tmp_path_factory.mktemp("gateway-rules") / "rules.yaml"
    rules.write_text(f"extends: default\nhosts: [{RULES_ADDED_HOST}]\n")
    return start_module_proxy(options={"headroom_rules": str(rules)}, name="gateway")


def test_a_host_added_by_the_rules_is_intercepted_and_rewritten(
    gateway_proxy: Proxy, use_proxy: Callable[[Proxy], Proxy], fake: FakeProvider
) -> None:
    use_proxy(gateway_proxy)
    log = payloads.build_log()
    sent: list[Any] = []
    client = anthropic.Anthropic(
        api_key="sk-ant-test-not-secret", base_url=f"https://{RULES_ADDED_HOST}", max_retries=0,
        http_client=anthropic.DefaultHttpxClient(event_hooks={"request": [sent.append]}, timeout=30.0),
    )

    message = client.messages.create(model="claude-sonnet-4-5", max_tokens=256, tools=payloads.ANTHROPIC_RETRIEVE,
                                     messages=payloads.anthropic_messages(log))

    assert message.content[0].text == "Hello from the fake."
    received = fake.only_request("/v1/messages")
    assert received.host == RULES_ADDED_HOST
    arrived = received.json()["messages"][2]["content"][0]["content"]
    assert len(arrived) < len(log), "the gateway's request was not compressed"
    assert received.body == payloads.with_tool_outputs_replaced(sent[0].read(), [(log, arrived)])
    flows = wait_for_rows(gateway_proxy.db_path, "flows", 1)
    assert RULES_ADDED_HOST in [flow["host"] for flow in flows]


def test_a_host_the_rules_do_not_list_is_still_passed_through(
    gateway_proxy: Proxy, fake: FakeProvider, pki: FakePKI
) -> None:
    log = payloads.build_log()
    body = payloads.compact_json({"model": "claude-sonnet-4-5", "max_tokens": 256,
                                  "messages": payloads.anthropic_messages(log)})

    certificate, response = _post_through_connect(gateway_proxy, OTHER_HOST, fake.port, "/v1/messages", body)

    assert certificate == pki.leaf_cert_der, "the client saw the proxy's certificate, not the host's own"
    assert response.endswith(OTHER_HOST_BODY)
    received = fake.only_request("/v1/messages")
    assert (received.host, received.body) == (OTHER_HOST, body)
    # a provider call afterwards is logged; the unlisted host never is
    logged = len(read_rows(gateway_proxy.db_path, "flows") or [])
    _, response = _post_through_connect(gateway_proxy, "api.anthropic.com", 443, "/v1/models", b"", method="GET")
    assert response.startswith(b"HTTP/1.1 200")
    flows = wait_for_rows(gateway_proxy.db_path, "flows", logged + 1)
    assert OTHER_HOST not in [flow["host"] for flow in flows]


def _post_through_connect(
    proxy: Proxy, host: str, port: int, path: str, body: bytes, method: str = "POST"
) -> tuple[bytes, bytes]:
    """CONNECT through the proxy and send one request over TLS: (server certificate, response)."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as raw:
        raw.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head and (chunk := raw.recv(65536)):
            head += chunk
        assert head.split(b"\r\n")[0].split()[1] == b"200", head
        context = ssl.create_default_context(cafile=str(proxy.ca_bundle))
        with context.wrap_socket(raw, server_hostname=host) as tls:
            certificate = tls.getpeercert(binary_form=True)
            tls.sendall(
                f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
            )
            response = b""
            while chunk := tls.recv(65536):
                response += chunk
    assert certificate is not None
    return certificate, response


# --------------------------------------------------------------------------------------------
# 4. hot reload


def _two_tool_conversation() -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": payloads.USER_TEXT},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": payloads.COMMAND},
            {"type": "tool_use", "id": "toolu_02", "name": "Grep", "input": {"pattern": "def parse"}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": payloads.TOOL_TEXT},
            {"type": "tool_result", "tool_use_id": "toolu_02", "content": GREP_TEXT},
        ]},
    ]


def _send_and_see(fake: FakeProvider) -> tuple[str, str]:
    """Send the conversation; (the Bash output, the Grep output) as the provider got them."""
    fake.reset()
    client, _ = anthropic_client()
    client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=_two_tool_conversation(),
                           tools=payloads.ANTHROPIC_RETRIEVE)
    bash, grep = fake.only_request("/v1/messages").json()["messages"][2]["content"]
    return bash["content"], grep["content"]


def test_edited_rules_apply_and_a_broken_edit_keeps_the_last_good_rules(
    start_proxy: StartProxy, fake: FakeProvider, tmp_path: Path
) -> None:
    rules = tmp_path / "my-rules.yaml"
    rules.write_text(STRIP_ANSI)
    proxy = start_proxy(options={"headroom_rules": str(rules)})
    stripped = (payloads.strip_ansi(payloads.TOOL_TEXT), payloads.strip_ansi(GREP_TEXT))
    protected = (payloads.TOOL_TEXT, stripped[1])

    assert _send_and_see(fake) == stripped

    rules.write_text(STRIP_ANSI_BUT_PROTECT_BASH)
    seen = _poll(lambda: _send_and_see(fake), until=lambda outputs: outputs != stripped)
    assert seen == protected, "after the edit, Bash should be left alone and Grep still cleaned"

    rules.write_text(BROKEN)
    warning = re.compile(re.escape(str(rules)) + r":(\d+): ")
    during_broken_edit: list[tuple[str, str]] = []

    def warned() -> re.Match[str] | None:
        during_broken_edit.append(_send_and_see(fake))
        return warning.search(proxy.output())

    match = _poll(warned, until=bool)
    assert match is not None, f"no warning naming {rules}:LINE in mitmdump's output:\n{proxy.output()}"
    # the unclosed list opens on line 5; YAML notices at the end of the file, one line later
    assert int(match[1]) in (BROKEN_LINE, BROKEN_LINE + 1), match.group(0)
    during_broken_edit.append(_send_and_see(fake))
    assert set(during_broken_edit) == {protected}, "the broken edit changed how requests are handled"
    assert len(warning.findall(proxy.output())) == 1, "the same broken file should be reported once"


def _poll(attempt: Callable[[], Any], until: Callable[[Any], bool]) -> Any:
    """Repeat ``attempt`` until its result satisfies ``until`` or the reload timeout passes."""
    deadline = time.monotonic() + RELOAD_TIMEOUT_S
    result = attempt()
    while not until(result) and time.monotonic() < deadline:
        time.sleep(0.2)
        result = attempt()
    return result
