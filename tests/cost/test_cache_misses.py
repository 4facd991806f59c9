"""Crafted sessions, one per cause of a cache miss, through the worker's function and the addon's
``CostKeeper``, billed by a miniature prefix cache (``prefix_cache.py``)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from headroom_mitm.addon import pipeline, providers
from headroom_mitm.addon.cost.flow_cost import CostKeeper
from headroom_mitm.addon.flow_entry import build_entry
from headroom_mitm.addon.flow_state import FlowState
from headroom_mitm.addon.providers._summary import ResponseSummary
from headroom_mitm.addon.providers.anthropic import usage_from_fields
from headroom_mitm.addon.request_body import process_request_body
from headroom_mitm.addon.store.entries import FlowEntry
from headroom_mitm.rules import load_rules
from headroom_mitm.rules.prices import load_prices

from prefix_cache import PrefixCache

WIRE = providers.for_request("api.anthropic.com", "/v1/messages")
START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
MODULE = "\n".join(f"def parse_header_{i}(raw_bytes):\n    return decode_field(raw_bytes, {i})" for i in range(60))
TEST_RUN_1 = "\n".join(f"test_case_{i} ... FAILED (AssertionError in check_{i})" for i in range(60))
TEST_RUN_2 = "\n".join(f"test_case_{i} ... ok" for i in range(60))
SYSTEM = "You are a coding agent. " + " ".join(f"Rule {i}: keep the diff small." for i in range(300))


@pytest.fixture(autouse=True)
def fresh_memo() -> None:
    pipeline.clear_memo()


def body(outputs: list[tuple[str, dict[str, Any], str]], system: str = SYSTEM) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "fix the parser"}]
    for index, (tool, arguments, output) in enumerate(outputs):
        messages.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": f"toolu_{index:02d}", "name": tool, "input": arguments}]})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"toolu_{index:02d}", "content": output}]})
    return {"model": "claude-sonnet-4-5", "max_tokens": 100, "system": system, "messages": messages,
            "tools": [{"name": "headroom_retrieve", "description": "get back elided text",
                       "input_schema": {"type": "object"}}],
            "metadata": {"user_id": "user_x_account_y_session_crafted-1"}}


class Session:
    """Requests of one conversation through the proxy's path, billed by a prefix cache."""

    def __init__(self, rules: Any, mode: str = "cache") -> None:
        self.rules, self.mode = rules, mode
        self.cache = PrefixCache()
        self.keeper = CostKeeper(load_prices())

    def send(self, doc: dict[str, Any], at: datetime) -> FlowEntry:
        raw = json.dumps(doc).encode()
        result = process_request_body(raw, WIRE, self.rules, self.mode)
        usage = self.cache.bill(result.new_body or raw, at)
        state = FlowState(started_at=at, started=0.0, host="api.anthropic.com", path="/v1/messages",
                          method="POST", wire=WIRE, mode=self.mode)
        state.absorb(result)
        state.summary = ResponseSummary(usage=usage_from_fields(usage), events=1)
        entry = build_entry(state)
        self.keeper.settle(entry, result.cost)
        return entry


def reads(n: int) -> list[tuple[str, dict[str, Any], str]]:
    return [("Read", {"file_path": f"/src/m{i}.py"}, MODULE.replace("parse", f"p{i}")) for i in range(n)]


def test_same_prefix_inside_the_lifetime_is_provider_eviction() -> None:
    session = Session(load_rules())
    assert session.send(body(reads(2)), START).cache_miss is None
    session.cache.evict()
    missed = session.send(body(reads(3)), START + timedelta(seconds=40))
    assert missed.cache_miss == "evicted"
    assert "40s" in (missed.cache_miss_where or "")
    assert missed.cache_miss_tokens and missed.cache_miss_tokens > 1024


def test_same_prefix_after_the_lifetime_is_expired() -> None:
    session = Session(load_rules())
    session.send(body(reads(2)), START)
    missed = session.send(body(reads(3)), START + timedelta(minutes=6))
    assert missed.cache_miss == "expired"


def test_a_changed_system_prompt_is_the_clients_doing() -> None:
    session = Session(load_rules())
    session.send(body(reads(2)), START)
    missed = session.send(body(reads(3), system=SYSTEM + " Today is Tuesday."), START + timedelta(seconds=30))
    assert (missed.cache_miss, missed.cache_miss_where) == ("client", "system prompt changed")


def test_a_changed_earlier_message_is_the_clients_doing_and_says_which() -> None:
    session = Session(load_rules())
    session.send(body(reads(3)), START)
    edited = body(reads(4))
    edited["messages"][2]["content"][0]["content"] = "(output cleared by the client)"
    missed = session.send(edited, START + timedelta(seconds=30))
    assert (missed.cache_miss, missed.cache_miss_where) == ("client", "message 2 changed")


def test_cache_hits_are_no_misses() -> None:
    session = Session(load_rules())
    entries = [session.send(body(reads(n)), START + timedelta(seconds=10 * n)) for n in range(1, 6)]
    assert [e.cache_miss for e in entries] == [None] * 5
    assert all(e.usage_cache_read for e in entries[1:])


TOKEN_RULES = """\
extends: default
token_mode:
  step_turns: 5
  repeated_calls:
    tools: [Bash]
"""


def _checkpoint_session(tmp_path: Path) -> list[tuple[str, dict[str, Any], str]]:
    return ([("Bash", {"command": "pytest -q"}, TEST_RUN_1)] + reads(3)
            + [("Bash", {"command": "pytest -q"}, TEST_RUN_2)] + reads(8)[3:])


@pytest.mark.parametrize("mode", ["cache", "token"])
def test_the_proxy_changes_cached_bytes_only_at_token_mode_checkpoints(tmp_path: Path, mode: str) -> None:
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(TOKEN_RULES)
    session = Session(load_rules(str(rules_file)), mode)
    calls = _checkpoint_session(tmp_path)
    entries = [session.send(body(calls[:n]), START + timedelta(seconds=20 * n)) for n in range(1, len(calls) + 1)]
    proxy = [e for e in entries if e.cache_miss == "proxy"]
    if mode == "cache":
        assert proxy == []
        assert [e.cache_miss for e in entries] == [None] * len(entries)
        return
    assert proxy, "the checkpoint that retired the first test run rewrote a cached message"
    assert all(e.cache_miss_where == "message 2 rewritten" for e in proxy)  # the first run's result
    checkpoint = proxy[0]
    # the reads it lost to the rewrite are priced against what compression saved: here more
    assert checkpoint.saved_usd is not None and checkpoint.saved_usd < 0
