"""One conversation is one session, whatever its client changes between requests; two
conversations of other providers or system prompts never share one."""

from __future__ import annotations

import copy
import json

import pytest

from headroom_mitm.addon.conversation import fallback_session_id
from headroom_mitm.addon.providers import by_name
from headroom_mitm.addon.request_body import process_request_body
from headroom_mitm.rules import load_rules
from trace_bodies import mini_swe_text_requests, mini_swe_trace_files, wire_bodies
from shared_data import data_missing

RULES = load_rules(None)
CLIENTS = {  # client -> (wire format, the requests of its main conversation)
    "mini-swe-agent-2.4.6-default": ("anthropic", None),
    "mini-swe-agent-2.4.6-text": ("anthropic", None),
    "anthropic-sdk": ("anthropic", None),
    "claude-code-2.1.197": ("anthropic", None),
    "codex-0.171-http": ("openai-responses", None),
    "codex-0.171-websocket": ("openai-responses", None),
    "gemini-cli-0.61.0": ("gemini", range(1, 9)),  # request 0 is its routing call
    "aider-0.86.2": ("openai-chat", (0, 2)),  # 1 and 3 summarise the chat
}


def session_of(raw: str, wire_name: str) -> str:
    return process_request_body(raw.encode(), by_name(wire_name), RULES, "off").session_id


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_a_real_conversation_is_one_session(client):
    bodies = wire_bodies(client)
    if not bodies:
        data_missing(f"request bodies of {client} not found under ../shared/data/wire")
    wire_name, main = CLIENTS[client]
    sessions = [session_of(raw, wire_name) for raw in bodies]
    main = range(len(bodies)) if main is None else main
    assert len({sessions[i] for i in main}) == 1, sessions
    side = [sessions[i] for i in range(len(bodies)) if i not in main]
    assert sessions[main[0]] not in side  # another system prompt: another conversation


def test_litellm_marking_the_first_message_once_does_not_split_the_session():
    bodies = wire_bodies("mini-swe-agent-2.4.6-default")
    if not bodies:
        data_missing("request bodies of mini-swe-agent not found under ../shared/data/wire")
    first, second = json.loads(bodies[0]), json.loads(bodies[1])
    assert "cache_control" in first["messages"][0]["content"][0]
    assert "cache_control" not in second["messages"][0]["content"][0]
    assert fallback_session_id(first, "anthropic") == fallback_session_id(second, "anthropic")
    as_string = copy.deepcopy(second)
    as_string["messages"][0]["content"] = second["messages"][0]["content"][0]["text"]
    assert fallback_session_id(as_string, "anthropic") == fallback_session_id(second, "anthropic")


def test_other_providers_and_other_system_prompts_are_other_sessions():
    body = {"system": "You are helpful.", "messages": [{"role": "user", "content": "fix the tests"}]}
    other_system = dict(body, system="You are a reviewer.")
    chat_form = {"messages": [{"role": "system", "content": "You are helpful."}, body["messages"][0]]}
    chat_other = {"messages": [{"role": "system", "content": "You are a reviewer."}, body["messages"][0]]}
    ids = {fallback_session_id(body, "anthropic"), fallback_session_id(body, "openai-chat"),
           fallback_session_id(other_system, "anthropic"), fallback_session_id(chat_form, "openai-chat"),
           fallback_session_id(chat_other, "openai-chat")}
    assert len(ids) == 5


def test_every_mini_swe_agent_run_is_its_own_session_from_its_first_request():
    files = mini_swe_trace_files()
    if not files:
        data_missing("mini-swe-agent traces not found under ../shared/data/traces")
    per_run = []
    for path in files[:40]:
        bodies = list(mini_swe_text_requests(path))
        ids = {fallback_session_id(body, "openai-chat") for body in bodies[:: max(1, len(bodies) // 5)]}
        assert len(ids) == 1, path.name
        per_run.append(ids.pop())
    assert len(set(per_run)) == len(per_run)
