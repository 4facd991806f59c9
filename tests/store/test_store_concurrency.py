"""Several writers on one log at once: simultaneous first starts, crossing batches, real deadlocks."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import text

from headroom_mitm.addon.store import Flow, FlowLog, Original, ToolCall, make_engine
from headroom_mitm.addon.store.schema import head_revision

from store_builders import count, request_entry, rows, tool_call

# One process of the crowd: wait for the common start time, open the log, record one flow that
# shares a tool call and an original with every other process, close, print the counts.
_STARTER = """
import json, sys, time
from headroom_mitm.addon.store import FlowLog
sys.path.insert(0, {tests!r})
from store_builders import request_entry, tool_call
target, start_at, index = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
time.sleep(max(0.0, start_at - time.time()))
log = FlowLog(target)
started = log.start()
log.record(request_entry(0, session_id="shared", tool_calls=[tool_call(0, "shared"), tool_call(1, f"own-{{index}}")],
                         originals={{"f" * 64: "kept once", f"{{index:064x}}": f"kept by {{index}}"}}))
log.close(timeout=30)
print(json.dumps({{"started": started, "written": log.written, "failures": log.failures}}))
"""


def test_processes_starting_at_the_same_instant_on_an_empty_log_all_record(db_target: str) -> None:
    from store_builders import __file__ as builders

    processes = 5
    start_at = time.time() + 4  # time for every interpreter to import before the common start
    script = _STARTER.format(tests=str(__import__("pathlib").Path(builders).parent))
    children = [
        subprocess.Popen([sys.executable, "-c", script, db_target, str(start_at), str(index)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for index in range(processes)
    ]
    results = []
    for child in children:
        out, err = child.communicate(timeout=90)
        assert child.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))

    assert results == [{"started": True, "written": 1, "failures": 0}] * processes
    assert count(db_target, Flow) == processes
    assert count(db_target, ToolCall) == processes + 1  # the shared call once, each own call
    assert count(db_target, Original) == processes + 1
    engine = make_engine(db_target)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]
    finally:
        engine.dispose()


def _crossing_entry(round_number: int, reverse: bool):
    """An entry with 120 tool calls and originals, listed in opposite orders by the two writers."""
    session = f"crossing-{round_number}"
    calls = [tool_call(position, session) for position in range(120)]
    originals = {f"{round_number:032x}{position:032x}": f"original {position}" for position in range(120)}
    if reverse:
        calls.reverse()
        originals = dict(reversed(list(originals.items())))
    return request_entry(0, session_id=session, tool_calls=calls, originals=originals)


@pytest.mark.postgres
def test_two_writers_batching_the_same_content_in_opposite_order_never_deadlock(postgres_url: str) -> None:
    logs = [FlowLog(postgres_url), FlowLog(postgres_url)]
    for log in logs:
        assert log.start()
    rounds = 5
    for round_number in range(rounds):
        barrier = threading.Barrier(2)

        def write(log: FlowLog, reverse: bool) -> None:
            entry = _crossing_entry(round_number, reverse)
            barrier.wait()
            log.record(entry)
            assert log.flush(timeout=60)

        threads = [threading.Thread(target=write, args=(log, index == 1)) for index, log in enumerate(logs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
    for log in logs:
        log.close(timeout=30)

    assert count(postgres_url, ToolCall) == rounds * 120 and count(postgres_url, Original) == rounds * 120

    # a deadlock would have been retried (and nothing lost); in key order there is none to retry
    assert [(log.written, log.failures, log.retries) for log in logs] == [(rounds, 0, 0), (rounds, 0, 0)]


@pytest.mark.postgres
def test_a_deadlock_is_retried_and_nothing_is_lost(postgres_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Another session takes the calls' keys in the opposite order: PostgreSQL aborts the writer's
    transaction with a deadlock (40P01); the writer runs it again once the other committed."""
    import psycopg

    low, high = sorted([tool_call(0, "deadlock"), tool_call(1, "deadlock")], key=lambda call: call.fingerprint)
    log = FlowLog(postgres_url)
    assert log.start()
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as other:
        # the writer (default deadlock_timeout, 1 s) is the one that detects the deadlock and yields
        other.execute("SET deadlock_timeout = '60s'")
        other.execute("SET statement_timeout = '30s'")
        insert = (
            "INSERT INTO tool_calls (fingerprint, session_id, call_id, tool, output, is_error, provider, "
            "seen_at, position, source) VALUES (%s, 'deadlock', %s, 'Bash', 'by the other session', false, "
            "'anthropic', now(), 0, 'test') ON CONFLICT DO NOTHING"
        )
        other.execute(insert, (high.fingerprint, high.call_id))
        log.record(request_entry(0, session_id="deadlock", tool_calls=[high, low]))
        _wait_until_a_session_waits_for_a_lock(plain)
        other.execute(insert, (low.fingerprint, low.call_id))  # closes the cycle
        other.commit()
    assert log.flush(timeout=60)
    log.close(timeout=30)

    assert (log.written, log.failures) == (1, 0)
    assert log.retries >= 1
    assert count(postgres_url, Flow) == 1
    assert sorted(call.call_id for call in rows(postgres_url, ToolCall)) == sorted([low.call_id, high.call_id])
    assert not any("could not" in record.getMessage() for record in caplog.records)


def _wait_until_a_session_waits_for_a_lock(url: str) -> None:
    import psycopg

    # a connection of its own, in autocommit: a transaction sees pg_stat_activity as of its start
    with psycopg.connect(url, autocommit=True) as watcher:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database() AND query LIKE 'INSERT INTO tool_calls%'"
            ).fetchone()[0]
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the writer never waited for the other session's lock")
