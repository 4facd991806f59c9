"""The SQLite flow log through a real mitmdump when the file is locked for a while, and when it was
written by the release before migrations."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from headroom_mitm.addon.store.schema import head_revision

from . import team_traffic
from .conftest import StartProxy
from .fake_provider import FakeProvider
from .harness import read_rows, wait_for_rows
from .test_compression_e2e import headroom, wait_for_original

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "store" / "fixtures"
# longer than the proxy waits for a lock (5 s): its writes fail, not just wait
LOCK_HELD_S = 8.0


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _send_one_turn_conversations(proxy, conversations: range) -> None:
    for n in conversations:
        body = team_traffic.request_bodies(n, "postgresql://proxy@db.internal/headroom")[2]  # ends with the log
        # one request per conversation: nothing later resends what this one carried
        team_traffic.send(proxy, body)


def _wait_for_output(proxy, text: str, times: int = 1, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while proxy.output().count(text) < times:
        assert time.monotonic() < deadline, f"{text!r} not said {times}x by mitmdump:\n{proxy.output()}"
        time.sleep(0.1)


def test_refs_sent_while_the_log_was_locked_resolve_once_it_is_free(
    start_proxy: StartProxy, fake: FakeProvider
) -> None:
    proxy = start_proxy(options={"headroom_rules": ""})
    assert "flow log: writing to" in proxy.output()

    holder = _hold_write_lock(proxy.db_path)
    try:
        _send_one_turn_conversations(proxy, range(0, 3))
        assert len(fake.requests_to("/v1/messages")) == 3  # traffic went on while the log was locked
        _wait_for_output(proxy, "cannot write to")
        time.sleep(max(0.0, LOCK_HELD_S - 5))
    finally:
        holder.rollback()
        holder.close()
    refs = team_traffic.refs_sent_upstream(fake)
    assert len(refs) >= 3
    for ref in sorted(refs):
        assert any(wait_for_original(ref, proxy.db_path) in team_traffic.service_log(n) for n in range(3))
    _wait_for_output(proxy, "takes writes again")

    # a second outage is said again, and recovers the same way
    holder = _hold_write_lock(proxy.db_path)
    try:
        _send_one_turn_conversations(proxy, range(3, 4))
        _wait_for_output(proxy, "cannot write to", times=2)
    finally:
        holder.rollback()
        holder.close()
    for ref in sorted(team_traffic.refs_sent_upstream(fake) - refs):
        assert any(wait_for_original(ref, proxy.db_path) in team_traffic.service_log(n) for n in range(3, 4))
    assert len(wait_for_rows(proxy.db_path, "flows", 4)) == 4

    proxy.process.stop()
    # nothing was lost, so nothing is said to be
    assert "failed," not in proxy.output() and "not in the log" not in proxy.output(), proxy.output()


def test_a_log_written_by_the_release_before_migrations_is_upgraded_and_keeps_its_rows(
    start_proxy: StartProxy, fake: FakeProvider, tmp_path: Path
) -> None:
    old = tmp_path / "old" / "flows.db"
    old.parent.mkdir()
    shutil.copyfile(FIXTURES / "flows-v1.db", old)

    proxy = start_proxy(options={"headroom_db": str(old), "headroom_rules": ""})
    assert "a log from before migrations" in proxy.output() and "flow log: writing to" in proxy.output()
    _send_one_turn_conversations(proxy, range(1))

    flows = wait_for_rows(old, "flows", 4)
    assert [flow["session_id"] for flow in flows].count("v1-session") == 3
    assert [row["version_num"] for row in read_rows(old, "alembic_version")] == [head_revision()]
    kept = headroom("original", "%064x" % 1, "--db", str(old))
    assert kept.stdout == "original text kept by version 1, turn 0"
