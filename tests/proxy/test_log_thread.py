"""A finished flow becomes its log entry on the log thread, not on mitmproxy's event loop."""

from __future__ import annotations

import json
import sqlite3
import threading

from mitmproxy.test import taddons, tflow, tutils

from headroom_mitm.addon import proxy
from headroom_mitm.addon.proxy import HeadroomAddon

RESULT = "".join(f"\x1b[32mok\x1b[0m compiled module_{i}.o in {i * 7} ms\n" for i in range(40))
BODY = {
    "model": "claude-test",
    "messages": [
        {"role": "user", "content": "build it"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "make"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": RESULT}]},
    ],
}


async def test_the_entry_is_built_off_the_event_loop_and_still_logged_in_order(tmp_path, monkeypatch):
    built_on: list[str] = []
    real_build = proxy.build_entry

    def build_entry(state):
        built_on.append(threading.current_thread().name)
        return real_build(state)

    monkeypatch.setattr(proxy, "build_entry", build_entry)
    addon = HeadroomAddon()
    db = tmp_path / "flows.db"
    with taddons.context(addon) as tctx:
        tctx.configure(addon, headroom_db=str(db))
        for turn in range(3):
            body = json.loads(json.dumps(BODY))
            body["messages"][0]["content"] = f"build it, take {turn}"
            request = tutils.treq(host="api.anthropic.com", port=443, method=b"POST", path=b"/v1/messages",
                                  content=json.dumps(body).encode())
            flow = tflow.tflow(req=request)
            await addon.request(flow)
            flow.response = tutils.tresp(content=json.dumps({"usage": {"output_tokens": turn + 1}}).encode())
            await addon.response(flow)
    addon.done()  # waits for the log thread before closing the log
    assert built_on and all(name.startswith("headroom-log") for name in built_on)
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute("select usage_output from flows order by id").fetchall()
    finally:
        connection.close()
    assert rows == [(1,), (2,), (3,)]
