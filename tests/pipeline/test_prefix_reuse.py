"""The reused-prefix path sends exactly what the full path sends, on every request of the real traces.

``PrefixReuse`` lets a request work only on the turns it adds to its conversation's previous one
(addon/prefix_reuse.py). These tests run both paths on the same bodies, in order, and require the
same bytes upstream and the same outputs, originals and token counts for the log; and that the
fast path really ran, so the comparison is not the full path against itself.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from headroom_mitm.addon.cli.compress import compress_text
from headroom_mitm.addon.prefix_reuse import PrefixReuse
from headroom_mitm.addon.providers import by_name
from headroom_mitm.addon.request_body import RequestBody, process_request_body
from headroom_mitm.rules import load_rules
from pipeline_fakes import trace_bodies
from shared_data import data_missing

COMPARED = ("new_body", "outputs", "originals", "tokens_before", "tokens_after", "rewritten", "retrieval",
            "error", "model", "session_id", "project", "attested", "changes", "cost")


def _require_traces() -> None:
    if trace_bodies.shared_data_dir() is None:
        data_missing(f"trace data not found at {Path(trace_bodies.__file__).resolve().parents[2] / 'shared' / 'data'}")


def _conversations(claude_only: bool = False
                   ) -> Iterator[tuple[str, str, Callable[[Path], Iterator[dict[str, Any]]], Path]]:
    for path in trace_bodies.claude_code_trace_files():
        yield f"claude-code/{path.name}", "anthropic", trace_bodies.claude_code_requests, path
    if claude_only:
        return
    for path in trace_bodies.mini_swe_trace_files():
        yield f"mini-swe-tools/{path.name}", "openai-chat", trace_bodies.mini_swe_requests, path
        yield f"mini-swe-text/{path.name}", "openai-chat", trace_bodies.mini_swe_text_requests, path


def _differences(full: RequestBody, fast: RequestBody) -> list[str]:
    return [name for name in COMPARED if getattr(full, name) != getattr(fast, name)]


@pytest.mark.parametrize("mode", ["cache", "off"])
def test_every_trace_request_is_sent_the_same_with_the_reused_prefix(mode):
    """Cache mode on every request of every trace; mode off (nothing rewritten, so only the
    outputs and counts to compare) on the Claude Code ones."""
    _require_traces()
    rules = load_rules(None)
    reuse = PrefixReuse()
    requests = rewritten = 0
    for label, provider, builder, path in _conversations(claude_only=mode == "off"):
        wire = by_name(provider)
        for number, body in enumerate(builder(path), start=1):
            raw = json.dumps(body).encode()
            full = process_request_body(raw, wire, rules, mode)
            fast = process_request_body(raw, wire, rules, mode, reuse=reuse)
            assert not _differences(full, fast), f"{label} request {number}: {_differences(full, fast)} differ"
            requests += 1
            rewritten += full.new_body is not None
    assert requests > (8000 if mode == "cache" else 400)
    if mode == "cache":
        assert rewritten > requests // 4  # the comparison covers rewritten bodies, not only unchanged ones
        # nearly every request after a conversation's first repeats its previous one's turns
        assert reuse.reused_requests > requests * 0.8


def test_a_batch_through_headroom_compress_is_the_same_with_the_reused_prefix():
    _require_traces()
    rules = load_rules(None)
    reuse = PrefixReuse()
    path = max((p for p in trace_bodies.claude_code_trace_files() if p.parent.name != "subagents"),
               key=lambda p: p.stat().st_size)
    for number, body in enumerate(trace_bodies.claude_code_requests(path), start=1):
        text = json.dumps(body)
        assert compress_text(text, rules, "cache", "auto", reuse) == compress_text(text, rules, "cache", "auto"), (
            f"request {number}")
    assert reuse.reused_requests > 100


def _claude_conversation(turns: int) -> list[dict[str, Any]]:
    """``turns`` consecutive requests of a Claude Code session, from its fifth on."""
    _require_traces()
    path = next(p for p in trace_bodies.claude_code_trace_files() if p.name == "subagent.jsonl")
    bodies = list(trace_bodies.claude_code_requests(path))[4:4 + turns]
    assert len(bodies) == turns
    return bodies


def _both(bodies: list[dict[str, Any]], rules: Any, mode: str = "cache") -> PrefixReuse:
    wire = by_name("anthropic")
    reuse = PrefixReuse()
    for number, body in enumerate(bodies, start=1):
        raw = json.dumps(body).encode()
        full = process_request_body(raw, wire, rules, mode)
        fast = process_request_body(raw, wire, rules, mode, reuse=reuse)
        assert not _differences(full, fast), f"request {number}: {_differences(full, fast)} differ"
    return reuse


def test_a_moved_cache_breakpoint_and_an_edited_last_turn_change_only_what_follows():
    """Claude Code marks its newest turn for the prompt cache and unmarks the one before."""
    rules = load_rules(None)
    bodies = [copy.deepcopy(body) for body in _claude_conversation(3)]
    for body in bodies:
        last = body["messages"][-1]["content"][-1]
        last["cache_control"] = {"type": "ephemeral"}
    bodies.insert(2, copy.deepcopy(bodies[1]))
    bodies[2]["messages"][-1]["content"].append({"type": "text", "text": "and one more thing"})
    reuse = _both(bodies, rules)
    assert reuse.reused_requests >= 2


def test_a_changed_model_tool_list_or_rule_set_is_not_served_from_the_earlier_request(tmp_path):
    rules = load_rules(None)
    bodies = [copy.deepcopy(body) for body in _claude_conversation(3)]
    bodies[1]["model"] = "claude-haiku-4-5"
    bodies[2]["tools"] = [{"name": "headroom_retrieve", "input_schema": {"type": "object"}}]
    _both(bodies, rules)
    other_rules = tmp_path / "rules.yaml"
    other_rules.write_text("version: 1\nextends: default\nverbatim_tools: [Bash, Read, Grep]\n")
    reuse = PrefixReuse()
    wire = by_name("anthropic")
    for rule_set in (rules, load_rules(str(other_rules)), rules):
        for body in bodies:
            raw = json.dumps(body).encode()
            assert not _differences(process_request_body(raw, wire, rule_set, "cache"),
                                    process_request_body(raw, wire, rule_set, "cache", reuse=reuse))


def test_bodies_it_cannot_index_still_match_the_full_path():
    rules = load_rules(None)
    wire = by_name("anthropic")
    reuse = PrefixReuse()
    for raw in (b'{"messages": [1, 2]}', b'{"model": "x"}', b'[]', b'{"messages": [], "messages": []}',
                b'{"messages":[{"role":"user","content":"hi"}]} x', b'\xff', b'{"messages": [{"role": "user"}'):
        assert not _differences(process_request_body(raw, wire, rules, "cache"),
                                process_request_body(raw, wire, rules, "cache", reuse=reuse)), raw
