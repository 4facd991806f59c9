"""The flow log as the proxy uses it, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import logging

import pytest

from headroom_mitm.addon.store import Flow, FlowLog, Original, ToolCall, tool_call_fingerprint

from store_builders import count, record_all, request_entry, rows, tool_call


def test_a_conversation_repeated_in_every_request_stores_each_tool_call_once(db_target: str) -> None:
    log = record_all(db_target, [request_entry(turn) for turn in range(4)])

    assert (log.written, log.failures, log.dropped) == (4, 0, 0)
    assert count(db_target, Flow) == 4
    calls = sorted(rows(db_target, ToolCall), key=lambda call: call.position)
    assert [call.position for call in calls] == [0, 1, 2, 3]
    flow_ids = sorted(flow.id for flow in rows(db_target, Flow))
    # each call points at the first request it appeared in
    assert [call.flow_id for call in calls] == flow_ids


def test_a_restarted_proxy_does_not_store_the_conversation_again(db_target: str) -> None:
    record_all(db_target, [request_entry(turn) for turn in range(3)])
    # a fresh process knows nothing of what was written: the database itself must dedupe
    record_all(db_target, [request_entry(3)])

    assert count(db_target, Flow) == 4
    assert count(db_target, ToolCall) == 4


def test_the_same_output_in_two_sessions_is_two_calls(db_target: str) -> None:
    record_all(db_target, [request_entry(0, session_id="a"), request_entry(0, session_id="b")])

    assert sorted(call.session_id for call in rows(db_target, ToolCall)) == ["a", "b"]


def test_calls_without_ids_are_told_apart_by_position(db_target: str) -> None:
    same_output = dict(call_id="", output="ok", is_error=False)
    entry = request_entry(0, tool_calls=[tool_call(0, **same_output), tool_call(1, **same_output)])
    record_all(db_target, [entry, request_entry(0, tool_calls=[tool_call(0, **same_output)])])

    assert sorted(call.position for call in rows(db_target, ToolCall)) == [0, 1]


def test_stored_calls_keep_what_learning_needs(db_target: str) -> None:
    failing = tool_call(
        0,
        arguments={"command": "ls missing", "flags": ["-l", 2], "nested": {"ok": True}},
        output="<returncode>2</returncode>\n<output>ls: cannot access 'missing'</output>",
        is_error=True,
    )
    record_all(db_target, [request_entry(0, tool_calls=[failing])])

    (stored,) = rows(db_target, ToolCall)
    assert json.loads(stored.arguments) == failing.arguments
    assert stored.output == failing.output
    assert stored.is_error is True
    assert stored.exit_code == 2
    assert stored.tool == "Bash" and stored.call_id == failing.call_id
    assert stored.project == "/home/dev/project" and stored.source == "proxy"
    assert stored.fingerprint == tool_call_fingerprint(
        failing.session_id, failing.call_id, failing.position, failing.tool, failing.output
    )
    assert stored.seen_at.tzinfo is not None


def test_flow_columns_round_trip(db_target: str) -> None:
    entry = request_entry(2, stop_reason="tool_use", mode="token", transport="websocket", tool_outputs_rewritten=2)
    record_all(db_target, [entry])

    (flow,) = rows(db_target, Flow)
    assert (flow.provider, flow.model, flow.host, flow.path) == (entry.provider, entry.model, entry.host, entry.path)
    assert (flow.tokens_before, flow.tokens_after) == (entry.tokens_before, entry.tokens_after)
    assert (flow.usage_input, flow.usage_output, flow.usage_cache_read, flow.usage_cache_write) == (50, 20, 900, 10)
    assert (flow.stop_reason, flow.mode, flow.transport) == ("tool_use", "token", "websocket")
    assert (flow.tool_outputs, flow.tool_outputs_rewritten) == (3, 2)
    assert flow.latency_ms == pytest.approx(entry.latency_ms)
    assert flow.started_at == entry.started_at


def test_originals_are_stored_once_by_hash(db_target: str) -> None:
    first = request_entry(0, originals={"a" * 64: "dropped rows 1-500", "b" * 64: "dropped log lines"})
    second = request_entry(1, originals={"a" * 64: "dropped rows 1-500", "c" * 64: "other"})
    record_all(db_target, [first, second])

    stored = {original.hash: original for original in rows(db_target, Original)}
    assert {key: original.content for key, original in stored.items()} == {
        "a" * 64: "dropped rows 1-500",
        "b" * 64: "dropped log lines",
        "c" * 64: "other",
    }
    flow_ids = sorted(flow.id for flow in rows(db_target, Flow))
    assert stored["a" * 64].flow_id == flow_ids[0]


def test_one_bad_entry_does_not_take_the_others_down(db_target: str) -> None:
    unstorable = request_entry(0, session_id="bad", latency_ms=object())
    log = record_all(db_target, [request_entry(0), unstorable, request_entry(1)])

    assert (log.written, log.failures) == (2, 1)
    assert count(db_target, Flow) == 2


def test_text_no_database_takes_as_is_is_stored_not_lost(db_target: str) -> None:
    # a binary file read carries NUL; a JSON escape cut in half leaves a lone surrogate
    odd = tool_call(0, output="header\x00binary \ud83d tail")
    log = record_all(db_target, [request_entry(0, tool_calls=[odd])])

    assert log.failures == 0
    (stored,) = rows(db_target, ToolCall)
    assert stored.output.startswith("header") and stored.output.endswith(" tail")


def test_record_before_start_and_after_close_only_counts(db_target: str) -> None:
    log = FlowLog(db_target)
    log.record(request_entry(0))
    assert log.failures == 1
    log.start()
    log.close()
    log.record(request_entry(1))
    assert log.failures == 2
    assert count(db_target, Flow) == 0


def test_flush_waits_for_the_queue(db_target: str) -> None:
    log = FlowLog(db_target)
    log.start()
    try:
        for turn in range(5):
            log.record(request_entry(turn))
        assert log.flush(timeout=30)
        assert count(db_target, Flow) == 5
    finally:
        log.close()


def test_a_database_that_cannot_be_reached_disables_the_log_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # a port nothing listens on: the connection is refused at once
    log = FlowLog("postgresql://postgres:pw-not-logged@127.0.0.1:9/none?connect_timeout=2")
    with caplog.at_level(logging.INFO):
        assert log.start() is False
        log.record(request_entry(0))
        log.close()

    assert not log.enabled and log.failures == 1
    assert [record.levelno for record in caplog.records if record.levelno >= logging.ERROR] == []
    assert any("flow log disabled" in record.getMessage() for record in caplog.records)
    assert "pw-not-logged" not in caplog.text
