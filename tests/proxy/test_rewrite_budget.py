"""A body whose rewrite runs past its time budget goes upstream as the client sent it, and its
flow row says why; what was done is kept for the conversation's next request."""

from __future__ import annotations

import json
import sqlite3

from mitmproxy.test import taddons, tflow, tutils

from headroom_mitm.addon import proxy
from headroom_mitm.addon.prefix_reuse import PrefixReuse
from headroom_mitm.addon.providers import by_name
from headroom_mitm.addon.proxy import HeadroomAddon
from headroom_mitm.addon.request_body import process_request_body
from headroom_mitm.rules import load_rules

RESULT = "".join(f"\x1b[32mok\x1b[0m compiled module_{i}.o in {i * 7} ms\n" for i in range(40))
BODY = {
    "model": "claude-test",
    "tools": [{"name": "mcp__headroom__headroom_retrieve", "input_schema": {"type": "object"}}],
    "messages": [
        {"role": "user", "content": "build it"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "make"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": RESULT}]},
    ],
}


def test_past_the_budget_nothing_is_rewritten_and_the_answer_says_why():
    raw = json.dumps(BODY).encode()
    rules, wire = load_rules(None), by_name("anthropic")
    assert process_request_body(raw, wire, rules, "cache").new_body is not None  # it would be rewritten
    reuse = PrefixReuse()
    late = process_request_body(raw, wire, rules, "cache", reuse=reuse, budget_s=0.0)
    assert late.new_body is None
    assert "budget" in (late.error or "") and "forwarded unmodified" in late.error
    assert process_request_body(raw, wire, rules, "cache", reuse=reuse, budget_s=60.0).new_body is not None


async def test_the_flow_row_of_a_body_past_its_budget_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(proxy, "REWRITE_BUDGET_S", 0.0)
    addon = HeadroomAddon()
    db = tmp_path / "flows.db"
    raw = json.dumps(BODY).encode()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, headroom_db=str(db))
        flow = tflow.tflow(req=tutils.treq(host="api.anthropic.com", port=443, method=b"POST",
                                           path=b"/v1/messages", content=raw))
        await addon.request(flow)
        assert flow.request.content == raw
        flow.response = tutils.tresp(content=b'{"usage": {"output_tokens": 1}}')
        await addon.response(flow)
    addon.done()
    connection = sqlite3.connect(db)
    try:
        [(error, rewritten)] = connection.execute("select error, tool_outputs_rewritten from flows").fetchall()
    finally:
        connection.close()
    assert "budget" in error and rewritten == 0
