"""The proxy's own code path, fed the requests a Claude Code session sent, logs what learning
needs: the same patterns, with the same evidence, as importing that session's transcript."""

from __future__ import annotations

import json

from learn_helpers import require_traces
from test_learn_end_to_end import CLAUDE_SESSIONS, _learn_json, _run
from trace_bodies import claude_code_requests

from headroom_mitm.addon.flow_entry import tool_call_entries
from headroom_mitm.addon.providers import by_name
from headroom_mitm.addon.request_body import process_request_body
from headroom_mitm.addon.store.engine import make_engine
from headroom_mitm.addon.store.entries import FlowEntry
from headroom_mitm.addon.store.persist import write_flow
from headroom_mitm.addon.store.schema import ensure_schema
from headroom_mitm.rules import load_rules


def _replay_through_the_proxy_path(target: str, transcripts) -> int:
    """Each request body goes through what the proxy runs for it; returns the requests sent."""
    wire, rules = by_name("anthropic"), load_rules(None)
    engine = make_engine(target)
    ensure_schema(engine)
    requests = 0
    for path in transcripts:
        for body in claude_code_requests(path):
            seen = process_request_body(json.dumps(body).encode(), wire, rules, "cache")
            entry = FlowEntry(
                host="api.anthropic.com",
                provider=wire.name,
                session_id=seen.session_id,
                project=seen.project,
                tool_calls=tool_call_entries(seen.outputs, seen.session_id, seen.project, wire.name),
            )
            with engine.begin() as connection:
                write_flow(connection, entry)
            requests += 1
    engine.dispose()
    return requests


def _without_times(patterns: list[dict]) -> list[dict]:
    # a replay happens now, the transcript then: first and last seen are the only honest difference
    return [{key: value for key, value in p.items() if key not in ("first_seen", "last_seen")} for p in patterns]


def test_learning_from_the_proxy_log_matches_learning_from_transcripts(tmp_path, capsys):
    folder = require_traces("claude-code")
    transcripts = [folder / name for name in CLAUDE_SESSIONS]
    proxied, imported = str(tmp_path / "proxy.db"), str(tmp_path / "import.db")
    requests = _replay_through_the_proxy_path(proxied, transcripts)
    _run(capsys, "import", *map(str, transcripts), "--db", imported)

    from_proxy = _without_times(_learn_json(capsys, proxied, "--min-evidence", "1"))
    from_import = _without_times(_learn_json(capsys, imported, "--min-evidence", "1"))
    assert requests > len(transcripts) * 10  # every call was resent in many requests
    assert from_proxy and from_proxy == from_import
    push = next(p for p in from_proxy if p["trigger"] == "git push")
    assert push["evidence"] == 3
