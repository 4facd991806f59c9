"""A subscription request is never made to look third-party: attested bodies pass byte for byte,
and a credential whose rewritten requests the provider refuses or bills elsewhere stops being
rewritten (the breaker), with the refused request sent again as the client sent it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from . import payloads
from .clients import SentBodies, anthropic_client, anthropic_subscription_client
from .conftest import Proxy, StartProxy
from .fake_provider import FakeProvider, RecordedRequest, Verdict
from .harness import MITMDUMP, read_rows, wait_for_rows

pytestmark = pytest.mark.e2e

HEADROOM = MITMDUMP.with_name("headroom")
OAUTH_TOKEN = "sk-ant-oat01-subscription-token-for-tests-0123456789"
API_KEY = "sk-ant-api03-api-key-for-tests-0123456789"
BILLING_LINE = "x-anthropic-billing-header: cc_version=2.1.197.a51; cc_entrypoint=cli; cch=3bf9b;"
SYSTEM = [{"type": "text", "text": BILLING_LINE}, {"type": "text", "text": "You are a coding agent."}]
REFUSAL = {"type": "error", "error": {
    "type": "invalid_request_error",
    "message": "Third-party apps now draw from your extra usage, not your plan limits. "
               "Add more at claude.ai/settings/usage and keep going."}}
PLAN = {"anthropic-ratelimit-unified-status": "allowed",
        "anthropic-ratelimit-unified-representative-claim": "five_hour",
        "anthropic-ratelimit-unified-5h-utilization": "0.12"}
OVERAGE = {"anthropic-ratelimit-unified-status": "rejected",
           "anthropic-ratelimit-unified-5h-status": "rejected",
           "anthropic-ratelimit-unified-overage-status": "allowed",
           "anthropic-ratelimit-unified-representative-claim": "five_hour"}


def _ask(client: Any, *, stream: bool = False) -> str:
    # the retrieve tool declared (headroom mcp registered): the ANSI rule may apply
    kwargs = dict(model="claude-sonnet-4-5", max_tokens=256, system=SYSTEM, tools=payloads.ANTHROPIC_RETRIEVE,
                  messages=payloads.anthropic_messages())
    if stream:
        with client.messages.stream(**kwargs) as events:
            return events.get_final_message().content[0].text
    return client.messages.create(**kwargs).content[0].text


def _as_sent(sent: SentBodies):
    """A provider that validates bodies against the client's attestation, as a judge: it
    accepts what the client sent byte for byte and treats anything else as another client."""
    def judge(request: RecordedRequest, rewritten: Verdict, unmodified: Verdict) -> Verdict:
        return unmodified if request.body in {r.read() for r in sent.requests} else rewritten
    return judge


def _verify_rules(tmp_path: Path) -> str:
    rules = tmp_path / "verify.yaml"
    rules.write_text(
        "version: 1\n"
        "credentials:\n"
        "  - name: try-attested-subscriptions\n"
        "    credential: subscription\n"
        "    policy: verify\n"
        "rules:\n"
        "  - name: strip-ansi\n"
        "    compress: ansi\n"
    )
    return str(rules)


def _headroom(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(HEADROOM), *args], capture_output=True, text=True, timeout=60, env=env)


def _doctor(proxy: Proxy, tmp_path: Path) -> list[dict[str, Any]]:
    home = tmp_path / "doctor-home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home), "HTTPS_PROXY": proxy.url, "https_proxy": proxy.url}
    done = _headroom("doctor", "--json", env=env)
    return json.loads(done.stdout)["checks"]


def test_attested_subscription_body_reaches_the_provider_byte_identical(
    proxy: Proxy, fake: FakeProvider, tmp_path: Path
) -> None:
    client, sent = anthropic_subscription_client(OAUTH_TOKEN)

    assert _ask(client) == "Hello from the fake."

    received = fake.only_request("/v1/messages")
    assert received.body == sent.only()
    [flow] = wait_for_rows(proxy.db_path, "flows", 1)
    assert (flow["credential_kind"], flow["attested"], flow["policy"], flow["unmodified_reason"]) == (
        "subscription", 1, "keep", "attested")
    assert flow["tool_outputs"] == 1 and flow["tool_outputs_rewritten"] == 0
    # still logged and learned from
    [call] = wait_for_rows(proxy.db_path, "tool_calls", 1)
    assert call["output"] == payloads.TOOL_TEXT
    assert OAUTH_TOKEN.encode() not in proxy.db_path.read_bytes()
    assert flow["credential_id"] and flow["credential_id"] not in OAUTH_TOKEN
    [kept] = [r for r in _doctor(proxy, tmp_path) if r["check"] == "subscriptions"]
    assert kept["ok"] is True and "1 subscription request in" in kept["detail"] and "API key" in kept["detail"]


def test_api_key_body_with_the_same_attestation_is_compressed(proxy: Proxy, fake: FakeProvider) -> None:
    client, sent = anthropic_client(API_KEY)

    assert _ask(client) == "Hello from the fake."

    received = fake.only_request("/v1/messages")
    assert received.body == payloads.with_tool_output_rewritten(sent.only())
    [flow] = wait_for_rows(proxy.db_path, "flows", 1)
    assert (flow["credential_kind"], flow["attested"], flow["policy"], flow["unmodified_reason"]) == (
        "api_key", 1, "rewrite", None)
    assert API_KEY.encode() not in proxy.db_path.read_bytes()


def test_refused_rewrite_is_sent_again_as_the_client_sent_it_and_trips_the_breaker(
    start_proxy: StartProxy, fake: FakeProvider, tmp_path: Path
) -> None:
    proxy = start_proxy(options={"headroom_rules": _verify_rules(tmp_path)})
    client, sent = anthropic_subscription_client(OAUTH_TOKEN)
    judge = _as_sent(sent)
    fake.judge = lambda request: judge(request, Verdict(refuse_status=400, refuse_body=REFUSAL),
                                       Verdict(headers=PLAN))

    answers = [_ask(client), _ask(client, stream=True), _ask(client)]

    assert answers == ["Hello from the fake."] * 3  # the agent never saw the refusal
    bodies = [request.body for request in fake.requests_to("/v1/messages")]
    sent_bodies = [request.read() for request in sent.requests]
    # verifying (sent as is), rewritten and refused, the same sent again, then as is: breaker
    assert bodies == [sent_bodies[0], payloads.with_tool_output_rewritten(sent_bodies[1]),
                      sent_bodies[1], sent_bodies[2]]
    flows = wait_for_rows(proxy.db_path, "flows", 3)
    assert [f["unmodified_reason"] for f in flows] == ["verifying", None, "breaker"]
    assert [bool(f["retried"]) for f in flows] == [False, True, False]
    assert "Third-party apps" in flows[1]["refusal"]
    assert flows[1]["status_code"] == 200 and flows[1]["usage_output"]
    assert [f["billing_bucket"] for f in flows] == ["five_hour"] * 3
    [breaker] = wait_for_rows(proxy.db_path, "breakers", 1)
    assert breaker["credential_id"] == flows[0]["credential_id"] and "refused" in breaker["reason"]
    assert "STOPPED rewriting requests of subscription credential" in proxy.output()

    # said on the proxy's own page and by doctor, with what to do
    import httpx

    with httpx.Client(proxy=proxy.url, timeout=10) as pages:
        health = pages.get("http://headroom.invalid/health").json()
    assert health["status"] == "degraded"
    assert [t["credential_id"] for t in health["breakers"]["tripped"]] == [breaker["credential_id"]]
    doctor = _doctor(proxy, tmp_path)
    [tripped] = [r for r in doctor if r["check"] == "subscriptions" and r["ok"] is False]
    assert breaker["credential_id"] in tripped["detail"] and "headroom breaker reset" in tripped["fix"]

    listed = _headroom("breaker", "--db", str(proxy.db_path), "--json")
    assert listed.returncode == 0, listed.stderr
    assert [b["credential_id"] for b in json.loads(listed.stdout)] == [breaker["credential_id"]]

    # the next run of the proxy reads the breaker from the log
    proxy.process.stop()
    again = start_proxy(options={"headroom_rules": _verify_rules(tmp_path), "headroom_db": str(proxy.db_path)})
    client, sent = anthropic_subscription_client(OAUTH_TOKEN)  # a new client reads the new proxy
    assert _ask(client) == "Hello from the fake."
    assert fake.requests_to("/v1/messages")[-1].body == sent.only()
    assert wait_for_rows(proxy.db_path, "flows", 4)[-1]["unmodified_reason"] == "breaker"
    assert "pass unmodified" in again.output()

    reset = _headroom("breaker", "reset", breaker["credential_id"][:8], "--db", str(proxy.db_path))
    assert reset.returncode == 0 and "re-armed 1 breaker" in reset.stdout
    assert read_rows(proxy.db_path, "breakers")[0]["reset_at"] is not None


def test_refusal_of_the_clients_own_bytes_is_not_blamed_on_the_rewrite(
    start_proxy: StartProxy, fake: FakeProvider, tmp_path: Path
) -> None:
    """A plan that is really out of extra usage refuses the original too: the client sees the
    provider's own answer to its own bytes, and the breaker stays armed."""
    proxy = start_proxy(options={"headroom_rules": _verify_rules(tmp_path)})
    client, sent = anthropic_subscription_client(OAUTH_TOKEN)
    fake.judge = lambda request: (Verdict(headers=PLAN) if len(fake.requests_to("/v1/messages")) == 1
                                  else Verdict(refuse_status=400, refuse_body=REFUSAL))
    _ask(client)

    with pytest.raises(Exception, match="extra usage"):
        _ask(client)

    bodies = [request.body for request in fake.requests_to("/v1/messages")]
    assert bodies[-1] == sent.requests[-1].read()  # sent again as is, refused again
    flows = wait_for_rows(proxy.db_path, "flows", 2)
    assert flows[1]["retried"] and flows[1]["status_code"] == 400
    assert read_rows(proxy.db_path, "breakers") == []


def test_rewritten_requests_billed_to_overage_trip_the_breaker(
    start_proxy: StartProxy, fake: FakeProvider, tmp_path: Path
) -> None:
    proxy = start_proxy(options={"headroom_rules": _verify_rules(tmp_path)})
    client, sent = anthropic_subscription_client(OAUTH_TOKEN)
    judge = _as_sent(sent)
    fake.judge = lambda request: judge(request, Verdict(headers=OVERAGE), Verdict(headers=PLAN))

    for _ in range(3):
        assert _ask(client, stream=True) == "Hello from the fake."

    flows = wait_for_rows(proxy.db_path, "flows", 3)
    assert [f["billing_bucket"] for f in flows] == ["five_hour", "overage", "five_hour"]
    assert [f["unmodified_reason"] for f in flows] == ["verifying", None, "breaker"]
    assert [f["tool_outputs_rewritten"] for f in flows] == [0, 1, 0]
    [breaker] = wait_for_rows(proxy.db_path, "breakers", 1)
    assert "'overage'" in breaker["reason"] and "'five_hour'" in breaker["reason"]
    anthropic_headers = json.loads(flows[1]["billing"])
    assert anthropic_headers["anthropic-ratelimit-unified-overage-status"] == "allowed"


# ---- Codex with a ChatGPT login, over its WebSocket ----------------------------------------

CODEX_URL = "wss://chatgpt.com/backend-api/codex/responses"
CHATGPT_TOKEN = "eyJhbGciOiJSUzI1NiJ9.chatgpt-login-token-for-tests.signature"
CODEX_LIMITS = {"type": "codex.rate_limits", "plan_type": "plus", "rate_limits": {
    "allowed": True, "limit_reached": False,
    "primary": {"used_percent": 12, "window_minutes": 300, "reset_after_seconds": 9000}}}


def _codex_turn(proxy: Proxy, message: str) -> list[dict[str, Any]]:
    import ssl

    from websockets.sync.client import connect

    context = ssl.create_default_context(cafile=str(proxy.ca_bundle))
    events: list[dict[str, Any]] = []
    with connect(CODEX_URL, proxy=proxy.url, ssl=context, open_timeout=15, close_timeout=5,
                 additional_headers={"Authorization": f"Bearer {CHATGPT_TOKEN}",
                                     "originator": "codex_cli_rs"}) as socket:
        socket.send(message)
        while not events or events[-1]["type"] not in ("response.completed", "error"):
            events.append(json.loads(socket.recv(timeout=10)))
    return events


def test_codex_turn_refused_as_rewritten_is_sent_again_and_trips_the_breaker(
    proxy: Proxy, fake: FakeProvider
) -> None:
    message = payloads.compact_json({
        "type": "response.create", "model": "gpt-5-codex", "instructions": "You are a coding agent.",
        "store": False, "tools": payloads.RESPONSES_RETRIEVE, "input": payloads.responses_input(),
    }).decode()
    fake.judge = lambda turn: (
        Verdict(socket_events=[CODEX_LIMITS]) if turn.body == message.encode()
        else Verdict(refuse_status=400, refuse_body={"error": {
            "type": "invalid_request_error", "message": "Third-party apps are not allowed here."}}))

    turns = [_codex_turn(proxy, message) for _ in range(3)]

    assert [turn[-1]["type"] for turn in turns] == ["response.completed"] * 3  # never saw the refusal
    received = [m.text for m in fake.ws_messages]
    rewritten = payloads.with_tool_output_rewritten(message.encode()).decode()
    assert received == [message, rewritten, message, message]
    flows = wait_for_rows(proxy.db_path, "flows", 3)
    assert [f["credential_kind"] for f in flows] == ["subscription"] * 3
    assert [f["unmodified_reason"] for f in flows] == ["verifying", None, "breaker"]
    assert [bool(f["retried"]) for f in flows] == [False, True, False]
    assert [f["billing_bucket"] for f in flows] == ["codex"] * 3
    assert flows[0]["agent"] == "codex_cli_rs"
    [breaker] = wait_for_rows(proxy.db_path, "breakers", 1)
    assert breaker["provider"] == "openai-responses"
    assert CHATGPT_TOKEN.encode() not in proxy.db_path.read_bytes()
