"""What the flow log does while its database takes no writes: keep, retry, say it, count only
what is truly lost."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from headroom_mitm.addon.store import Flow, FlowLog, Original, ToolCall

from store_builders import count, record_all, request_entry, rows


def _locked(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _quick_log(path: Path, **options) -> FlowLog:
    log = FlowLog(str(path), busy_timeout_ms=50, outage_retry_max_s=0.2, **options)
    assert log.start()
    return log


def test_an_original_dropped_while_locked_is_written_when_the_conversation_resends_it(tmp_path: Path) -> None:
    path = tmp_path / "flows.db"
    record_all(str(path), [])
    log = _quick_log(path, max_queue=1, batch_size=1)
    holder = _locked(path)
    try:
        # one entry in the writer's hands, one queued, the rest dropped: their originals too
        for turn in range(4):
            log.record(request_entry(turn, originals={f"{turn:064x}": f"set aside in turn {turn}"}))
        assert log.dropped >= 1
    finally:
        holder.rollback()
        holder.close()
    assert log.flush(timeout=30)
    # the next request of the conversation carries every earlier original again (as the proxy's do)
    log.record(request_entry(4, originals={f"{turn:064x}": f"set aside in turn {turn}" for turn in range(5)}))
    log.close(timeout=30)

    assert sorted(original.content for original in rows(str(path), Original)) == [
        f"set aside in turn {turn}" for turn in range(5)
    ]
    assert count(str(path), ToolCall) == 5  # the dropped turns' calls came back with the last request
    assert log.lost() == (0, 0)


def test_what_never_reached_the_database_is_counted_and_said_on_close(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "flows.db"
    record_all(str(path), [])
    log = _quick_log(path)
    holder = _locked(path)
    try:
        with caplog.at_level(logging.INFO):
            log.record(request_entry(0, originals={"a" * 64: "never stored"}))
            log.close(timeout=1)
    finally:
        holder.rollback()
        holder.close()

    assert (log.written, log.failures) == (0, 1)
    assert log.lost() == (1, 1)
    closing = [record.getMessage() for record in caplog.records if "failed" in record.getMessage()]
    assert closing and "1 tool calls, 1 originals" in closing[-1]
    assert count(str(path), Flow) == 0


def test_nothing_is_said_to_be_lost_when_nothing_was(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "flows.db"
    record_all(str(path), [])
    log = _quick_log(path)
    holder = _locked(path)
    with caplog.at_level(logging.INFO):
        log.record(request_entry(0, originals={"b" * 64: "kept"}))
        assert not log.flush(timeout=1)
        holder.rollback()
        holder.close()
        assert log.flush(timeout=30)
        log.close(timeout=30)
    assert (log.written, log.failures, log.dropped) == (1, 0, 0)
    assert not any("failed" in record.getMessage() or "lost" in record.getMessage() for record in caplog.records)


def test_each_outage_is_said_when_it_begins_and_when_it_ends(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "flows.db"
    record_all(str(path), [])
    log = _quick_log(path)
    with caplog.at_level(logging.INFO):
        for turn in range(2):
            holder = _locked(path)
            log.record(request_entry(turn, session_id=f"outage-{turn}"))
            assert not log.flush(timeout=1)
            holder.rollback()
            holder.close()
            assert log.flush(timeout=30)
        log.close(timeout=30)
    messages = [record.getMessage() for record in caplog.records]
    assert sum("cannot write to" in message for message in messages) == 2
    assert sum("takes writes again" in message for message in messages) == 2
    assert log.outages == 2 and log.written == 2


def test_startup_says_whether_the_database_takes_writes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "flows.db"
    record_all(str(path), [request_entry(0)])
    read_only = FlowLog(f"sqlite:///file:{path}?mode=ro&uri=true")
    writable = FlowLog(str(path))
    with caplog.at_level(logging.INFO):
        assert read_only.start() and writable.start()
    assert (read_only.writable, writable.writable) == (False, True)
    read_only.close(timeout=0.5)
    writable.close()
    messages = [record.getMessage() for record in caplog.records]
    assert any("does not take writes" in message and "readonly" in message for message in messages)
    assert sum("flow log: writing to" in message for message in messages) == 1
