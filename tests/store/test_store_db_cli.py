"""Every ``headroom`` command that opens the flow log: one clear line when it cannot, no password,
no traceback; ``headroom db current|upgrade``; the database from the environment or a file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from headroom_mitm.addon.cli import main
from headroom_mitm.addon.store import Flow
from headroom_mitm.addon.store.schema import head_revision

from migration_helpers import revisions_with_one_more, sqlite_log_from_before_migrations
from store_builders import count, record_all, request_entry

PASSWORD = "pw-never-shown-42"
HEADROOM = Path(sys.executable).with_name("headroom")


def _commands(db: str, tmp_path: Path) -> dict[str, list[str]]:
    transcript = tmp_path / "transcripts"
    transcript.mkdir(exist_ok=True)
    return {
        "stats": ["stats", db],
        "original": ["original", "3fa9c01b22de", "--db", db],
        "learn": ["learn", db, "--json"],
        "import": ["import", str(transcript), "--db", db],
        "db current": ["db", "current", db],
        "db upgrade": ["db", "upgrade", db],
    }


def _unusable(kind: str, tmp_path: Path) -> tuple[str, str]:
    """(the database argument, what the message must name it as)"""
    if kind == "unreachable":
        # a port nothing listens on: refused at once
        return f"postgresql://proxy:{PASSWORD}@127.0.0.1:9/headroom", "postgresql://proxy:***@127.0.0.1:9/headroom"
    if kind == "unparsable":
        return f"postgresql://proxy:{PASSWORD}@db:port/headroom", "postgresql://proxy:***@db:port/headroom"
    if kind == "not-a-database":
        path = tmp_path / "notes.db"
        path.write_bytes(b"these are somebody's notes, not a database\n" * 100)
        return str(path), str(path)
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["unreachable", "unparsable", "not-a-database"])
@pytest.mark.parametrize("command", ["stats", "original", "learn", "import", "db current", "db upgrade"])
def test_a_database_that_cannot_be_used_is_one_clear_line(
    command: str, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, shown = _unusable(kind, tmp_path)
    status = main(_commands(db, tmp_path)[command])
    captured = capsys.readouterr()

    assert status == 1
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"headroom {command}: ") and shown in lines[0], lines[0]
    assert "Traceback" not in captured.err and PASSWORD not in captured.out + captured.err


def test_the_command_names_the_cause(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, _ = _unusable("unreachable", tmp_path)
    main(["learn", db])
    assert "Connection refused" in capsys.readouterr().err


def test_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    db, shown = _unusable("unreachable", tmp_path)
    finished = subprocess.run([str(HEADROOM), "original", "3fa9c01b22de", "--db", db], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 1
    assert finished.stderr.count("\n") == 1 and shown in finished.stderr and PASSWORD not in finished.stderr


def test_the_database_comes_from_the_environment_or_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "team.db"
    record_all(str(path), [request_entry(0), request_entry(1)])
    monkeypatch.setenv("HEADROOM_DB", str(path))
    assert main(["stats", "--json"]) == 0
    assert str(path) in capsys.readouterr().out

    url_file = tmp_path / "db-url"
    url_file.write_text(f"sqlite:///{path}\n")
    monkeypatch.setenv("HEADROOM_DB", f"@{url_file}")
    assert main(["db", "current"]) == 0
    assert "up to date" in capsys.readouterr().out
    monkeypatch.setenv("HEADROOM_DB", f"@{tmp_path / 'missing'}")
    assert main(["stats"]) == 1
    assert f"cannot read the database URL from {tmp_path / 'missing'}" in capsys.readouterr().err


def test_db_current_and_upgrade_on_a_log_from_before_migrations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = sqlite_log_from_before_migrations(tmp_path)

    assert main(["db", "current", str(path)]) == 0
    assert "a log from before migrations" in capsys.readouterr().out
    assert main(["db", "upgrade", str(path)]) == 0
    head = head_revision()
    assert f"stamped and upgraded to {head}" in capsys.readouterr().out
    assert main(["db", "current", str(path)]) == 0
    assert f"{head} (head: up to date)" in capsys.readouterr().out
    assert main(["db", "upgrade", str(path)]) == 0
    assert f"already at {head}" in capsys.readouterr().out
    assert count(str(path), Flow) == 3


def test_db_upgrade_creates_a_missing_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "new" / "flows.db"
    assert main(["db", "upgrade", str(path)]) == 0
    assert f"created the flow log at {head_revision()}" in capsys.readouterr().out
    assert path.is_file()


def test_a_log_a_newer_release_upgraded_is_said_and_not_written(
    db_target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from headroom_mitm.addon.store import ensure_schema, make_engine

    record_all(db_target, [request_entry(0)])
    engine = make_engine(db_target)
    ensure_schema(engine, revisions_with_one_more(tmp_path, "pass"))
    engine.dispose()

    assert main(["db", "current", db_target]) == 1
    assert "r9001: newer than this headroom" in capsys.readouterr().out
    assert main(["db", "upgrade", db_target]) == 1
    assert "upgrade headroom to use it" in capsys.readouterr().err
    # reading still works: stats and learn do not need to write
    assert main(["stats", db_target]) == 0


@pytest.mark.parametrize("kind", ["unreachable", "unparsable", "not-a-database"])
def test_the_retrieve_tool_says_in_one_line_why_the_log_cannot_be_used(kind: str, tmp_path: Path) -> None:
    from headroom_mitm.addon.cli.mcp import RetrieveError, retrieve

    db, shown = _unusable(kind, tmp_path)
    with pytest.raises(RetrieveError) as failure:
        retrieve(db, "3fa9c01b22de")
    message = str(failure.value)
    assert shown in message and "\n" not in message and PASSWORD not in message


def test_the_retrieve_tool_waits_for_an_original_the_proxy_is_still_writing(tmp_path: Path) -> None:
    import threading

    from headroom_mitm.addon.cli.mcp import retrieve
    from headroom_mitm.addon.store import FlowLog

    path = tmp_path / "flows.db"
    record_all(str(path), [])
    log = FlowLog(str(path))
    assert log.start()
    # the model asks the moment it has the ref; the write lands a little later
    later = threading.Timer(0.5, lambda: log.record(request_entry(0, originals={"c" * 64: "written a moment later"})))
    later.start()
    try:
        assert "written a moment later" in retrieve(str(path), "c" * 12)
    finally:
        later.join()
        log.close()
