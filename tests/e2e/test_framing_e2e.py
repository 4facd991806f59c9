"""Real clients' bodies, as they sent them, through mitmdump with the shipped rules: text- and
JSON-framed outputs arrive compressed, every request repeats the one before, failures are logged
with their exit codes, and one conversation is one session.

These replay the bodies the real clients recorded (``../shared/data/wire``), one request after the
other, over HTTPS through the proxy: the bytes a user's agent would send.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from trace_bodies import wire_bodies

from .clients import httpx_client
from .conftest import Proxy
from .fake_provider import FakeProvider
from .harness import read_rows, wait_for_rows
from shared_data import data_missing

pytestmark = pytest.mark.e2e

GEMINI_PATH = "/v1beta/models/gemini-3-pro-preview:streamGenerateContent"
CLIENTS = {  # client -> (URL, route the fake records, where the turns are, headers)
    "mini-swe-agent-2.4.6-text": ("https://api.anthropic.com/v1/messages", "/v1/messages", "messages",
                                  {"x-api-key": "sk-ant-test-not-secret", "anthropic-version": "2023-06-01"}),
    "mini-swe-agent-2.4.6-default": ("https://api.anthropic.com/v1/messages", "/v1/messages", "messages",
                                     {"x-api-key": "sk-ant-test-not-secret", "anthropic-version": "2023-06-01"}),
    "aider-0.86.2": ("https://api.openai.com/v1/chat/completions", "/v1/chat/completions", "messages",
                     {"authorization": "Bearer sk-proj-test-not-secret"}),
    "gemini-cli-0.61.0": (f"https://generativelanguage.googleapis.com{GEMINI_PATH}?alt=sse", GEMINI_PATH, "contents",
                          {"x-goog-api-key": "AIza-test-not-secret"}),
}


@pytest.fixture(scope="module")
def shipped_rules_proxy(start_module_proxy) -> Proxy:
    return start_module_proxy(options={"headroom_rules": ""}, name="framing")


def _replay(client: str, proxy: Proxy, use_proxy, fake: FakeProvider) -> tuple[list[Any], list[Any]]:
    bodies = wire_bodies(client)
    if not bodies:
        data_missing(f"request bodies of {client} not found under ../shared/data/wire")
    use_proxy(proxy)
    url, route, _, headers = CLIENTS[client]
    with httpx_client() as http:
        for body in bodies:
            response = http.post(url, content=body.encode(), headers={"content-type": "application/json", **headers})
            assert response.status_code == 200, response.text
    received = [r.json() for r in fake.requests_to(route)]
    assert len(received) == len(bodies)
    return [json.loads(b) for b in bodies], received


def _text_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False))


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_framed_outputs_arrive_compressed_and_each_request_repeats_the_one_before(
        client, shipped_rules_proxy: Proxy, use_proxy, fake: FakeProvider) -> None:
    sent, received = _replay(client, shipped_rules_proxy, use_proxy, fake)
    turns = CLIENTS[client][2]
    assert sum(_text_size(r[turns]) for r in received) < 0.95 * sum(_text_size(s[turns]) for s in sent)
    for k in range(1, len(sent)):
        same = 0
        while same < min(len(sent[k - 1][turns]), len(sent[k][turns])) and sent[k - 1][turns][same] == sent[k][turns][same]:
            same += 1
        assert received[k][turns][:same] == received[k - 1][turns][:same], f"{client}: request {k} changed earlier turns"
        assert {key: v for key, v in received[k].items() if key != turns} == {key: v for key, v in sent[k].items() if key != turns}


def _new_flows(proxy: Proxy, before: int, count: int) -> list[dict]:
    """The flows logged since the log held ``before`` (the module's proxy is shared)."""
    return wait_for_rows(proxy.db_path, "flows", before + count)[before:]


def test_mini_swe_agent_failures_are_logged_with_their_exit_codes_in_one_session(
        shipped_rules_proxy: Proxy, use_proxy, fake: FakeProvider) -> None:
    before = len(read_rows(shipped_rules_proxy.db_path, "flows") or [])
    sent, _ = _replay("mini-swe-agent-2.4.6-text", shipped_rules_proxy, use_proxy, fake)
    task = sent[0]["messages"][0]["content"][0]["text"]
    flows = _new_flows(shipped_rules_proxy, before, len(sent))
    calls = wait_for_rows(shipped_rules_proxy.db_path, "tool_calls", 7)
    text_calls = [c for c in calls if c["call_id"].startswith("step-") and c["output"].startswith("<returncode>")]
    assert len({c["session_id"] for c in text_calls}) == 1, "one conversation, one session"
    session = text_calls[0]["session_id"]
    assert [f["session_id"] for f in flows] == [session] * len(sent)
    assert len(text_calls) == 7 and {c["tool"] for c in text_calls} == {"bash"}
    failing = [c for c in text_calls if c["is_error"]]
    assert [(c["exit_code"], "pytest" in json.loads(c["arguments"])["command"]) for c in failing] == [(1, True)]
    assert all(c["exit_code"] == 0 for c in text_calls if not c["is_error"])
    assert task not in [c["output"] for c in calls]


def test_gemini_cli_failing_command_is_logged_as_a_failure(shipped_rules_proxy: Proxy, use_proxy,
                                                           fake: FakeProvider) -> None:
    before = len(read_rows(shipped_rules_proxy.db_path, "flows") or [])
    sent, _ = _replay("gemini-cli-0.61.0", shipped_rules_proxy, use_proxy, fake)
    calls = [c for c in wait_for_rows(shipped_rules_proxy.db_path, "tool_calls", 7)
             if c["tool"] == "run_shell_command" and c["provider"] == "gemini"]
    by_command = {json.loads(c["arguments"])["command"]: c for c in calls}
    pytest_run = next(c for command, c in by_command.items() if "pytest" in command)
    assert (pytest_run["is_error"], pytest_run["exit_code"]) == (1, 1)
    assert by_command["git log"]["is_error"] == 0
    sessions = [f["session_id"] for f in _new_flows(shipped_rules_proxy, before, len(sent))]
    assert len(set(sessions[1:])) == 1 and sessions[0] not in sessions[1:]  # the first is its routing call
