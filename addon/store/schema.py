"""Bring the flow log's schema to the newest revision this release ships, safely under a crowd.

The revisions are Alembic's, in ``store/migrations`` (that module's docstring says how to add
one). Opening a log:

* already at the newest revision: nothing is written (a read-only log that is current opens);
* empty: every revision runs, creating the tables;
* made before migrations existed (tables, ``meta.schema_version`` = 1, no ``alembic_version``):
  what the baseline has and the file lacks is added, nothing is dropped, the file is stamped
  ``r0001`` and upgraded from there, so every row is kept;
* at a revision this release does not know (a newer release upgraded it): refused with
  :class:`SchemaTooNew`, nothing is written.

Upgrades run in one transaction under a lock: a PostgreSQL advisory lock (per schema), SQLite's
``BEGIN IMMEDIATE``. Any number of proxies may start at once on an empty database: one upgrades,
the others wait for it and then find the schema current.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from headroom_mitm.addon.store.errors import SchemaTooNew
from headroom_mitm.addon.store.migrations import SCRIPT_LOCATION
from headroom_mitm.addon.store.migrations.baseline import BASELINE

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = ["SchemaState", "Upgrade", "ensure_schema", "head_revision", "schema_state", "SchemaTooNew"]

logger = logging.getLogger(__name__)

# Alembic says "setup plugin ...", "Context impl SQLiteImpl" and the like at INFO from its import
# on, and the proxy's console shows INFO: this module's own lines say what happened instead.
# (Alembic is imported below, inside the functions, so this comes first.)
if logging.getLogger("alembic").level == logging.NOTSET:
    logging.getLogger("alembic").setLevel(logging.WARNING)

BASELINE_REVISION = "r0001"
# The first key of the advisory lock (the second is the schema's name): one number of our own,
# so no other application's advisory locks on the same database meet ours.
_ADVISORY_LOCK_CLASS = 0x4852  # "HR"


@dataclass(frozen=True)
class SchemaState:
    """Where a log stands."""

    revisions: tuple[str, ...]
    """What ``alembic_version`` holds (empty for an empty or pre-migration log)."""
    head: str
    """The newest revision this release ships."""
    known: bool
    """Every revision in the log is one this release ships."""
    legacy: bool
    """The log was made before migrations: its tables exist, ``alembic_version`` does not."""
    empty: bool
    """None of the flow log's tables exist."""

    @property
    def current(self) -> bool:
        return self.revisions == (self.head,)

    @property
    def revision(self) -> Optional[str]:
        return ", ".join(self.revisions) if self.revisions else None


@dataclass(frozen=True)
class Upgrade:
    """What :func:`ensure_schema` did."""

    before: SchemaState
    after: str
    changed: bool


@lru_cache(maxsize=4)
def _script(location: str) -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(location)


def _config(connection: Connection, location: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", location)
    config.attributes["connection"] = connection
    return config


def head_revision(location: Path = SCRIPT_LOCATION) -> str:
    heads = _script(str(location)).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the flow log's migrations have {len(heads)} heads ({', '.join(heads)}): expected one")
    return heads[0]


def schema_state(connection: Connection, location: Path = SCRIPT_LOCATION) -> SchemaState:
    from alembic.runtime.migration import MigrationContext

    script = _script(str(location))
    tables = set(inspect(connection).get_table_names())
    revisions = tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
    known = all(_knows(script, revision) for revision in revisions)
    ours = set(BASELINE.tables)
    return SchemaState(
        revisions=revisions,
        head=head_revision(location),
        known=known,
        legacy=not revisions and bool(tables & ours),
        empty=not revisions and not tables & ours,
    )


def _knows(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for an unknown id
        return False


def ensure_schema(engine: Engine, location: Path = SCRIPT_LOCATION) -> Upgrade:
    """Bring ``engine``'s log to the newest revision; raise :class:`SchemaTooNew` for a log a newer
    release upgraded. Writes nothing when the log is current."""
    from alembic import command

    with engine.connect() as connection:
        before = schema_state(connection, location)
    _refuse_newer(before)
    if before.current:
        return Upgrade(before=before, after=before.head, changed=False)
    with _upgrade_lock(engine) as connection:
        # another process may have upgraded while we waited for the lock
        state = schema_state(connection, location)
        _refuse_newer(state)
        if state.current:
            return Upgrade(before=before, after=state.head, changed=False)
        config = _config(connection, str(location))
        if state.legacy:
            logger.info("flow log: a log from before migrations; adding what it lacks and stamping %s", BASELINE_REVISION)
            _catch_up_to_baseline(connection)
            command.stamp(config, BASELINE_REVISION)
        command.upgrade(config, "head")
    logger.info("flow log: schema upgraded from %s to %s", before.revision or ("pre-migration" if before.legacy else "empty"), before.head)
    return Upgrade(before=before, after=before.head, changed=True)


def _refuse_newer(state: SchemaState) -> None:
    if not state.known:
        raise SchemaTooNew(
            f"its schema revision {state.revision} is newer than this headroom's newest ({state.head}); "
            "a newer release upgraded it: upgrade headroom to use it"
        )


@contextmanager
def _upgrade_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the upgrade lock until it commits."""
    with engine.connect() as connection:
        dialect = connection.dialect.name
        if dialect == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:lock_class, hashtext(coalesce(current_schema(), '')))"),
                {"lock_class": _ADVISORY_LOCK_CLASS},
            )
        elif dialect == "sqlite":
            # takes the write lock now (waiting busy_timeout for it), not at the first write
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


def _catch_up_to_baseline(connection: Connection) -> None:
    """Give a pre-migration log what the baseline has and it lacks: tables, columns, indexes."""
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    BASELINE.create_all(connection, tables=[t for t in BASELINE.sorted_tables if t.name not in existing])
    preparer = connection.dialect.identifier_preparer
    for table in BASELINE.sorted_tables:
        if table.name not in existing:
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            # added nullable whatever the baseline says: the rows already there have no value
            logger.info("flow log: adding column %s.%s", table.name, column.name)
            connection.execute(
                text(
                    f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN "
                    f"{preparer.format_column(column)} {column.type.compile(dialect=connection.dialect)}"
                )
            )
        indexes = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                logger.info("flow log: adding index %s", index.name)
                index.create(connection)
    meta = BASELINE.tables["meta"]
    has_version = connection.execute(meta.select().where(meta.c.key == "schema_version")).first()
    if has_version is None:
        connection.execute(meta.insert().values(key="schema_version", value="1"))
