"""Create the flow log's tables, and bring an older file forward without losing a row.

Migration here only ever adds: missing tables, missing columns (nullable, so existing rows stay
valid), missing indexes. Nothing is dropped or rewritten, so a file written by an older version
opens in a newer one with every row intact, and an older version can still write to a newer file.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from headroom_mitm.addon.store.models import SCHEMA_VERSION, Base, Meta

__all__ = ["ensure_schema", "schema_version_of", "SchemaError"]

logger = logging.getLogger(__name__)


class SchemaError(Exception):
    """The database cannot hold the flow log (for example: it is not a database at all)."""


def ensure_schema(engine: Engine) -> None:
    """Make ``engine``'s database hold the current tables, columns and indexes.

    Writes nothing when the schema is already current, so a read-only database that is up to date
    opens fine (its writes will then fail and be counted by the writer).
    """
    inspector = inspect(engine)
    existing_tables = set(inspector.get_table_names())
    missing_tables = [table for table in Base.metadata.sorted_tables if table.name not in existing_tables]
    if missing_tables:
        Base.metadata.create_all(engine, tables=missing_tables)
    with engine.begin() as connection:
        _add_missing_columns(connection, existing_tables)
        _add_missing_indexes(connection, existing_tables)
        _record_schema_version(connection)


def schema_version_of(connection: Connection) -> int | None:
    """The schema version the file says it has (None for a file without a meta table)."""
    if "meta" not in inspect(connection).get_table_names():
        return None
    value = connection.execute(select(Meta.value).where(Meta.key == "schema_version")).scalar()
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _add_missing_columns(connection: Connection, existing_tables: set[str]) -> None:
    inspector = inspect(connection)
    preparer = connection.dialect.identifier_preparer
    for table in Base.metadata.sorted_tables:
        if table.name not in existing_tables:
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            column_type = column.type.compile(dialect=connection.dialect)
            logger.info("flow log: adding column %s.%s", table.name, column.name)
            connection.execute(
                text(
                    f"ALTER TABLE {preparer.format_table(table)} "
                    f"ADD COLUMN {preparer.format_column(column)} {column_type}"
                )
            )


def _add_missing_indexes(connection: Connection, existing_tables: set[str]) -> None:
    inspector = inspect(connection)
    for table in Base.metadata.sorted_tables:
        if table.name not in existing_tables:
            continue
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in present:
                logger.info("flow log: adding index %s", index.name)
                index.create(connection)


def _record_schema_version(connection: Connection) -> None:
    found = schema_version_of(connection)
    if found == SCHEMA_VERSION:
        return
    if found is not None and found > SCHEMA_VERSION:
        # a newer version wrote this file; its extra columns are nullable, so writing still works
        logger.warning(
            "flow log schema version %s is newer than this version's %s; writing anyway",
            found,
            SCHEMA_VERSION,
        )
        return
    if found is None:
        try:
            # a savepoint, so another process creating the same row first does not abort us
            with connection.begin_nested():
                connection.execute(
                    Meta.__table__.insert().values(key="schema_version", value=str(SCHEMA_VERSION))
                )
        except IntegrityError:
            pass
    else:
        connection.execute(
            Meta.__table__.update().where(Meta.key == "schema_version").values(value=str(SCHEMA_VERSION))
        )
