"""The flow log's schema history: created, recognised, upgraded, refused, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from headroom_mitm.addon.store import Flow, FlowLog, Original, ToolCall, ensure_schema, make_engine
from headroom_mitm.addon.store.errors import SchemaTooNew
from headroom_mitm.addon.store.migrations import SCRIPT_LOCATION
from headroom_mitm.addon.store.models import Base
from headroom_mitm.addon.store.schema import head_revision, schema_state

from migration_helpers import (
    V1_SQLITE,
    baseline_revisions,
    postgres_log_from_before_migrations,
    revisions_with_one_more,
    sqlite_log_from_before_migrations,
)
from store_builders import count, record_all, request_entry, rows


def _log_from_before_migrations(db_target: str, tmp_path: Path) -> str:
    if "://" in db_target:
        postgres_log_from_before_migrations(db_target)
        return db_target
    return str(sqlite_log_from_before_migrations(tmp_path))


def _revisions(target: str) -> tuple[str, ...]:
    engine = make_engine(target)
    try:
        with engine.connect() as connection:
            return tuple(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


# --- the history itself ------------------------------------------------------------------------


def test_the_revisions_form_one_line() -> None:
    script = ScriptDirectory(str(SCRIPT_LOCATION))
    assert len(script.get_heads()) == 1, "two revisions share a parent: point one at the other"
    chain = list(script.walk_revisions())
    assert chain[-1].down_revision is None
    for revision in chain:
        assert re.fullmatch(r"r\d{4}", revision.revision), f"{revision.revision}: revisions are named rNNNN"
        assert Path(revision.path).name.startswith(revision.revision + "_")


def test_the_models_and_the_revisions_agree(db_target: str) -> None:
    """A column added to models.py without a revision (or the other way round) fails here."""
    engine = make_engine(db_target)
    try:
        ensure_schema(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == [], "models.py and the revisions in store/migrations differ: add a revision"


def test_the_baseline_is_exactly_the_schema_of_a_sqlite_log_from_before_migrations(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    engine = make_engine(str(fresh))
    ensure_schema(engine, baseline_revisions(tmp_path))
    engine.dispose()

    def schema(path: Path) -> list[tuple[str, str]]:
        with sqlite3.connect(path) as connection:
            return connection.execute(
                "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE '%alembic%' ORDER BY name"
            ).fetchall()

    assert schema(fresh) == schema(V1_SQLITE)


@pytest.mark.postgres
def test_the_baseline_is_exactly_the_schema_of_a_postgres_log_from_before_migrations(
    postgres_url: str, tmp_path: Path
) -> None:
    import uuid

    import psycopg

    from headroom_mitm.addon.store.migrations.baseline import BASELINE

    old_schema = f"headroom_test_old_{uuid.uuid4().hex[:8]}"
    plain = postgres_url.split("?")[0].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{old_schema}"')
    try:
        old_url = postgres_url.split("?")[0] + f"?options=-csearch_path%3D{old_schema}"
        postgres_log_from_before_migrations(old_url)
        engine = make_engine(postgres_url)
        ensure_schema(engine, baseline_revisions(tmp_path))
        engine.dispose()

        def shape(url: str) -> dict:
            engine = make_engine(url)
            try:
                with engine.connect() as connection:
                    found = {}
                    inspector = inspect(connection)
                    for table in sorted(BASELINE.tables):
                        found[table] = (
                            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
                            sorted((i["name"], tuple(i["column_names"]), i["unique"]) for i in inspector.get_indexes(table)),
                            inspector.get_pk_constraint(table),
                            sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
                            sorted((tuple(f["constrained_columns"]), f["referred_table"]) for f in inspector.get_foreign_keys(table)),
                        )
                    return found
            finally:
                engine.dispose()

        assert shape(postgres_url) == shape(old_url)
    finally:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{old_schema}" CASCADE')


# --- opening logs of every age ------------------------------------------------------------------


def test_an_empty_database_is_created_at_the_newest_revision(db_target: str) -> None:
    log = record_all(db_target, [request_entry(0)])
    assert log.written == 1
    assert _revisions(db_target) == (head_revision(),)


def test_a_log_from_before_migrations_is_stamped_and_keeps_every_row(db_target: str, tmp_path: Path) -> None:
    target = _log_from_before_migrations(db_target, tmp_path)
    before = {model: count(target, model) for model in (Flow, ToolCall, Original)}
    assert before == {Flow: 3, ToolCall: 3, Original: 3}
    # read with the old file's own columns: the models have more
    old_calls = _old_tool_calls(target)
    old_call_ids = sorted(call.call_id for call in old_calls)

    log = FlowLog(target)
    assert log.start()
    # the old conversation again, one turn further: only the new call is new to the log
    entry = request_entry(0, session_id="v1-session", tool_calls=[])
    for call in old_calls:
        from headroom_mitm.addon.store import ToolCallEntry

        entry.tool_calls.append(
            ToolCallEntry(session_id=call.session_id, call_id=call.call_id, tool=call.tool, arguments=None,
                          output=call.output, position=call.position)
        )
    log.record(entry)
    log.close(timeout=30)

    assert _revisions(target) == (head_revision(),)
    assert (log.written, log.failures) == (1, 0)
    assert count(target, Flow) == 4 and count(target, ToolCall) == 3 and count(target, Original) == 3
    assert sorted(call.call_id for call in rows(target, ToolCall)) == old_call_ids
    kept = {original.hash: original.content for original in rows(target, Original)}
    assert kept["%064x" % 1] == "original text kept by version 1, turn 0"
    first = min(rows(target, Flow), key=lambda flow: flow.id)
    assert (first.tokens_before, first.started_at.isoformat()) == (1000, "2025-06-01T09:00:00+00:00")


def _old_tool_calls(target: str) -> list[Any]:
    from sqlalchemy import select

    from headroom_mitm.addon.store.engine import make_engine

    engine = make_engine(target)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(ToolCall.session_id, ToolCall.call_id, ToolCall.tool,
                                                  ToolCall.output, ToolCall.position)))
    finally:
        engine.dispose()


def test_a_log_from_before_migrations_with_fewer_columns_gains_them(tmp_path: Path) -> None:
    path = tmp_path / "flows.db"
    with sqlite3.connect(path) as old:
        # an even earlier shape: fewer columns, no meta table
        old.execute(
            "CREATE TABLE flows (id INTEGER PRIMARY KEY AUTOINCREMENT, started_at DATETIME, host VARCHAR, "
            "path TEXT, method VARCHAR, provider VARCHAR, model VARCHAR, tokens_before INTEGER, tokens_after INTEGER)"
        )
        old.execute(
            "INSERT INTO flows (started_at, host, path, method, provider, model, tokens_before, tokens_after) "
            "VALUES ('2025-06-01 10:00:00', 'api.openai.com', '/v1/responses', 'POST', 'openai-responses', 'gpt-5', 900, 300)"
        )
    record_all(str(path), [request_entry(0)])

    (old_flow,) = [flow for flow in rows(str(path), Flow) if flow.model == "gpt-5"]
    assert (old_flow.tokens_before, old_flow.usage_cache_read, old_flow.started_at.year) == (900, None, 2025)
    assert count(str(path), Flow) == 2
    assert _revisions(str(path)) == (head_revision(),)
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("1",)
        indexes = {row[1] for row in connection.execute("PRAGMA index_list('flows')")}
    assert "ix_flows_provider_model_started" in indexes


def test_a_log_at_an_older_revision_is_upgraded_without_losing_a_row(db_target: str, tmp_path: Path) -> None:
    record_all(db_target, [request_entry(turn) for turn in range(2)])
    newer = revisions_with_one_more(tmp_path, 'op.add_column("flows", sa.Column("added_later", sa.String(), nullable=True))')

    engine = make_engine(db_target)
    try:
        done = ensure_schema(engine, newer)
        with engine.connect() as connection:
            columns = {column["name"] for column in inspect(connection).get_columns("flows")}
    finally:
        engine.dispose()

    assert (done.before.revision, done.after, done.changed) == (head_revision(), "r9001", True)
    assert "added_later" in columns
    assert count(db_target, Flow) == 2 and count(db_target, ToolCall) == 2


def test_a_failing_upgrade_leaves_the_log_as_it_was(db_target: str, tmp_path: Path) -> None:
    record_all(db_target, [request_entry(0)])
    broken = revisions_with_one_more(
        tmp_path, 'op.add_column("flows", sa.Column("half_done", sa.String())); raise RuntimeError("revision failed")'
    )
    engine = make_engine(db_target)
    try:
        with pytest.raises(RuntimeError, match="revision failed"):
            ensure_schema(engine, broken)
        with engine.connect() as connection:
            columns = {column["name"] for column in inspect(connection).get_columns("flows")}
    finally:
        engine.dispose()
    assert "half_done" not in columns
    assert _revisions(db_target) == (head_revision(),)
    assert count(db_target, Flow) == 1


def test_a_log_a_newer_release_upgraded_is_refused_and_left_untouched(
    db_target: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    record_all(db_target, [request_entry(0)])
    newer = revisions_with_one_more(tmp_path, 'op.add_column("flows", sa.Column("from_the_future", sa.String(), nullable=True))')
    engine = make_engine(db_target)
    ensure_schema(engine, newer)
    with pytest.raises(SchemaTooNew, match=r"r9001 is newer than this headroom's newest \(r\d{4}\)"):
        ensure_schema(engine)
    engine.dispose()

    log = FlowLog(db_target)
    with caplog.at_level(logging.INFO):
        assert log.start() is False
        log.record(request_entry(1))
        log.close()
    message = " ".join(record.getMessage() for record in caplog.records)
    assert "flow log disabled" in message and "r9001" in message and "upgrade headroom" in message
    assert count(db_target, Flow) == 1
    assert _revisions(db_target) == ("r9001",)


def test_a_current_read_only_log_opens_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "flows.db"
    record_all(str(path), [request_entry(0)])
    engine = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        done = ensure_schema(engine)
        with engine.connect() as connection:
            state = schema_state(connection)
    finally:
        engine.dispose()
    assert not done.changed and state.current


@pytest.mark.postgres
def test_the_upgrade_waits_for_the_advisory_lock(postgres_url: str) -> None:
    """While another session holds the lock, an upgrade does not start; once it is released, it runs."""
    import threading

    engine = make_engine(postgres_url)
    holder = engine.connect()
    try:
        holder.execute(text("SELECT pg_advisory_xact_lock(18514, hashtext(coalesce(current_schema(), '')))"))
        finished = threading.Event()
        upgrading = threading.Thread(target=lambda: (ensure_schema(make_engine(postgres_url)), finished.set()))
        upgrading.start()
        assert not finished.wait(2), "the upgrade ran while another session held the lock"
        with engine.connect() as connection:
            assert schema_state(connection).empty
        holder.rollback()
        upgrading.join(30)
        assert finished.is_set()
    finally:
        holder.close()
        engine.dispose()
    assert _revisions(postgres_url) == (head_revision(),)
