"""Open the flow log: a SQLite file by default, any SQLAlchemy URL for a shared database."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from headroom_mitm.addon.store.errors import short_reason
from headroom_mitm.addon.store.target import TargetError, default_db_path, describe_target, is_url

__all__ = ["make_engine", "default_db_path", "describe_target", "is_url"]

logger = logging.getLogger(__name__)

# How long a write waits for another writer's lock before it fails (and is counted, not raised).
SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_S = 10


def make_engine(url_or_path: str | os.PathLike[str], *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """An engine for a SQLite path or a SQLAlchemy URL.

    A plain path is a SQLite file: its folder is created, and the file itself is created readable
    by its owner only before SQLite opens it (the log holds conversations). SQLite connections use
    WAL (readers never block the writer) and wait ``busy_timeout_ms`` for a lock.
    ``postgresql://`` without a driver means psycopg 3.
    """
    target = os.fspath(url_or_path)
    if target == ":memory:":
        # one shared connection, so the writer thread and readers see the same database
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    elif not is_url(target):
        path = Path(target).expanduser()
        _create_private_file(path)
        engine = create_engine(f"sqlite:///{path}")
    else:
        try:
            url = make_url(_with_default_postgres_driver(target))
        except (ArgumentError, ValueError):
            # SQLAlchemy's message quotes the whole URL, password included
            raise TargetError(f"{describe_target(target)} is not a database URL") from None
        connect_args: dict[str, Any] = {}
        if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
            # libpq waits for ever on a host that drops packets: a command or a proxy start must not
            connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
        try:
            engine = create_engine(url, pool_pre_ping=url.get_backend_name() != "sqlite", connect_args=connect_args)
        except Exception as exc:  # an unknown dialect, a driver that is not installed
            raise TargetError(f"cannot use {describe_target(target)}: {short_reason(exc, target)}") from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, busy_timeout_ms)
    return engine


def _with_default_postgres_driver(url: str) -> str:
    scheme, rest = url.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        return "postgresql+psycopg://" + rest
    return url


def _create_private_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_CREAT with mode 0600: never a moment where the file exists with wider permissions.
    # An existing file keeps the permissions its owner gave it.
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            try:
                cursor.execute("PRAGMA journal_mode = WAL")
                # WAL makes NORMAL safe against corruption; it only risks the last commits on power loss
                cursor.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as exc:
                # a read-only file can still be read in its current journal mode
                logger.debug("could not switch %s to WAL: %s", engine.url.database, exc)
        finally:
            cursor.close()
