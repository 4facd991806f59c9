"""The SQLite file a user can see: private, WAL, never a secret inside, never blocking traffic."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from headroom_mitm.addon.store import Flow, FlowLog, Original, ToolCall, make_engine
from headroom_mitm.addon.store.engine import default_db_path

from store_builders import count, record_all, request_entry, rows, tool_call

running_as_root = os.geteuid() == 0


def test_the_file_and_its_folders_are_created_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "flows.db"
    log = FlowLog(str(path))
    log.start()
    log.record(request_entry(0))
    log.flush(timeout=30)
    try:
        for name in ("flows.db", "flows.db-wal", "flows.db-shm"):
            mode = stat.S_IMODE((path.parent / name).stat().st_mode)
            assert mode == 0o600, f"{name} has mode {oct(mode)}"
    finally:
        log.close()


def test_an_existing_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "flows.db"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)
    make_engine(str(path)).dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_the_file_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "flows.db"
    record_all(str(path), [request_entry(0)])
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_default_path_follows_headroom_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HEADROOM_HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / "flows.db"
    monkeypatch.delenv("HEADROOM_HOME")
    assert default_db_path() == Path.home() / ".headroom" / "flows.db"


PLANTED = {
    "authorization": "sk-ant-oat01-PLANTEDauthHEADERvalue0123456789",
    "x_api_key": "PLANTED-key-only-known-from-the-header-42",
    "cookie": "PLANTEDcookieSESSIONvalue77",
    "gemini_query_key": "AIzaSyPLANTEDgeminiQUERYkey0123456789abc",
    "openai_in_output": "sk-proj-PLANTEDopenaiOUTPUTkey0123456789",
    "github_in_arguments": "ghp_PLANTEDgithubTOKENinARGUMENTS01234567",
    "aws_in_original": "AKIAPLANTEDAWS012345",
    "password_in_error": "PLANTEDhunter2password",
    "jwt_in_project": "eyJhbGciOiJIUzI1NiJ9.eyJQTEFOVEVEIjoxfQ.PLANTEDsignature",
    "private_key": "MIIEPLANTEDprivateKEYbody0123456789abcdef",
}


def test_planted_secrets_are_in_no_byte_of_the_database(tmp_path: Path) -> None:
    from headroom_mitm.addon.redact import secrets_from_headers

    headers = {
        "Authorization": f"Bearer {PLANTED['authorization']}",
        "x-api-key": PLANTED["x_api_key"],
        "Cookie": f"session={PLANTED['cookie']}; theme=dark",
    }
    known = tuple(secrets_from_headers(headers))
    leaky_call = tool_call(
        0,
        arguments={
            "command": f"curl -H 'x-api-key: {PLANTED['x_api_key']}' https://api.github.com",
            "token": PLANTED["github_in_arguments"],
        },
        output=(
            f"visible-marker-output\nOPENAI_API_KEY={PLANTED['openai_in_output']}\n"
            f"auth: {PLANTED['authorization']}\ncookie was {PLANTED['cookie']}\n"
            f"-----BEGIN RSA PRIVATE KEY-----\n{PLANTED['private_key']}\n-----END RSA PRIVATE KEY-----\n"
        ),
    )
    entry = request_entry(
        0,
        path=f"/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key={PLANTED['gemini_query_key']}",
        tool_calls=[leaky_call],
        originals={"d" * 64: f"visible-marker-original aws_access_key_id {PLANTED['aws_in_original']}"},
        error=f"upstream said: password={PLANTED['password_in_error']}",
        project=f"/srv/{PLANTED['jwt_in_project']}/repo",
        known_secrets=known,
    )
    path = tmp_path / "flows.db"
    log = FlowLog(str(path))
    log.start()
    log.record(entry)
    assert log.flush(timeout=30)
    try:
        # while the log is open the new pages are still in the WAL file: read both
        wal = path.with_name("flows.db-wal")
        assert wal.exists()
        stored = path.read_bytes() + wal.read_bytes()
        assert b"visible-marker-output" in stored and b"visible-marker-original" in stored
        for name, secret in PLANTED.items():
            assert secret.encode() not in stored, f"{name} reached the database file"
    finally:
        log.close()
    stored_after_checkpoint = path.read_bytes()
    for name, secret in PLANTED.items():
        assert secret.encode() not in stored_after_checkpoint, f"{name} reached the database file"


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _record_in_thread(log: FlowLog, entries: list) -> threading.Thread:
    thread = threading.Thread(target=lambda: [log.record(entry) for entry in entries])
    thread.start()
    # a deadline, not a measurement: a record() that waited for the lock would wait for ever here
    thread.join(timeout=20)
    return thread


def test_a_locked_database_does_not_hold_up_record_and_the_flows_land_later(tmp_path: Path) -> None:
    path = tmp_path / "flows.db"
    record_all(str(path), [])  # schema in place
    log = FlowLog(str(path), busy_timeout_ms=60_000)
    log.start()
    holder = _hold_write_lock(path)
    try:
        recorder = _record_in_thread(log, [request_entry(turn) for turn in range(5)])
        assert not recorder.is_alive(), "record() blocked while another process held the write lock"
        assert count(str(path), Flow) == 0
    finally:
        holder.rollback()
        holder.close()
    log.close(timeout=60)
    assert (log.written, log.failures, log.dropped) == (5, 0, 0)
    assert count(str(path), ToolCall) == 5


def test_a_lock_held_past_the_timeout_keeps_the_flows_until_the_database_takes_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "flows.db"
    record_all(str(path), [])
    log = FlowLog(str(path), busy_timeout_ms=50, outage_retry_max_s=0.2)
    log.start()
    holder = _hold_write_lock(path)
    try:
        with caplog.at_level(logging.INFO):
            log.record(request_entry(0, originals={"e" * 64: "kept while locked"}))
            assert not log.flush(timeout=2), "the flow was given up while the lock was held"
        assert log.failures == 0 and log.retries >= 1
        assert any("cannot write to" in r.getMessage() and "database is locked" in r.getMessage() for r in caplog.records)
    finally:
        holder.rollback()
        holder.close()
    log.record(request_entry(1))
    assert log.flush(timeout=30)
    log.close(timeout=30)
    assert (log.written, log.failures, log.dropped) == (2, 0, 0)
    assert count(str(path), Flow) == 2
    assert count(str(path), ToolCall) == 2
    assert [original.content for original in rows(str(path), Original)] == ["kept while locked"]


def test_when_the_database_cannot_keep_up_entries_are_dropped_not_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "flows.db"
    record_all(str(path), [])
    log = FlowLog(str(path), max_queue=2, batch_size=1, busy_timeout_ms=60_000)
    log.start()
    holder = _hold_write_lock(path)
    try:
        recorder = _record_in_thread(log, [request_entry(turn) for turn in range(20)])
        assert not recorder.is_alive()
        # at most one entry in the writer's hands and two in the queue
        assert log.dropped >= 17
    finally:
        holder.rollback()
        holder.close()
    log.close(timeout=60)
    assert log.written + log.dropped == 20 and log.failures == 0
    assert count(str(path), Flow) == log.written


def _assert_failing_database_is_harmless(target: str, caplog: pytest.LogCaptureFixture) -> FlowLog:
    log = FlowLog(target, outage_retry_max_s=0.2)
    with caplog.at_level(logging.INFO):
        log.start()
        for turn in range(3):
            log.record(request_entry(turn))  # must not raise
        log.flush(timeout=1)
        log.close(timeout=1)
    assert log.written == 0
    assert log.failures == 3
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    # startup never claims a log it cannot write to
    assert not any("writing to" in r.getMessage() for r in caplog.records)
    return log


def _existing_log_with_one_flow(path: Path) -> None:
    record_all(str(path), [request_entry(0)])


def test_a_read_only_database_counts_failures_and_loses_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "flows.db"
    _existing_log_with_one_flow(path)
    # SQLite's own read-only mode: refuses writes whoever the user is (root ignores chmod)
    _assert_failing_database_is_harmless(f"sqlite:///file:{path}?mode=ro&uri=true", caplog)
    assert count(str(path), Flow) == 1


@pytest.mark.skipif(running_as_root, reason="file permissions do not stop root")
def test_a_read_only_file_counts_failures_and_loses_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "flows.db"
    _existing_log_with_one_flow(path)
    os.chmod(path, 0o400)
    try:
        _assert_failing_database_is_harmless(str(path), caplog)
    finally:
        os.chmod(path, 0o600)
    assert count(str(path), Flow) == 1


@pytest.mark.skipif(running_as_root, reason="directory permissions do not stop root")
def test_a_read_only_directory_disables_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    os.chmod(folder, 0o500)
    try:
        log = _assert_failing_database_is_harmless(str(folder / "flows.db"), caplog)
    finally:
        os.chmod(folder, 0o700)
    assert not log.enabled


def test_a_folder_that_cannot_be_created_disables_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log's folder should be")
    log = _assert_failing_database_is_harmless(str(blocker / "flows.db"), caplog)
    assert not log.enabled
    assert blocker.read_text() == "a file where the log's folder should be"


def test_a_file_that_is_not_a_database_is_left_untouched(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "flows.db"
    content = b"these are somebody's notes, not a database\n" * 100
    path.write_bytes(content)
    _assert_failing_database_is_harmless(str(path), caplog)
    assert path.read_bytes() == content
