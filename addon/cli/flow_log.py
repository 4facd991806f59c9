"""Open the flow log for a ``headroom`` command, and say in one line why when it cannot be used.

Every command that reads or writes the log goes through :func:`run_on_flow_log`: the database is
resolved the same way (argument, else ``$HEADROOM_DB``, else ``~/.headroom/flows.db``; ``@FILE``
reads the URL from a file), and a database that is missing, unreachable, not a flow log or too
new ends the command with ``headroom COMMAND: <database, password masked>: <cause>`` and exit
code 1, never a traceback.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Optional, TextIO

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from headroom_mitm.addon.store.engine import make_engine
from headroom_mitm.addon.store.errors import FlowLogError, short_reason
from headroom_mitm.addon.store.target import TargetError, describe_target, is_url, resolve_target

__all__ = ["DB_HELP", "run_on_flow_log"]

DB_HELP = (
    "the flow log: a SQLite file or a database URL, or @FILE holding it "
    "(default: $HEADROOM_DB, else ~/.headroom/flows.db)"
)

# What a failing database raises while a command works on it (psycopg's and sqlite3's own
# errors arrive wrapped by SQLAlchemy, but a streamed read can surface them bare).
_DATABASE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, FlowLogError, TargetError, sqlite3.Error)
try:
    import psycopg

    _DATABASE_ERRORS += (psycopg.Error,)
except ImportError:  # PostgreSQL support is an extra
    pass


def run_on_flow_log(
    command: str,
    value: Optional[str],
    work: Callable[[Engine, str], int],
    err: TextIO,
    *,
    create: bool = False,
    upgrade: bool = False,
    missing_hint: str = "",
) -> int:
    """Run ``work(engine, target)`` on the flow log ``value`` names; return its exit code, or 1
    after one line on ``err`` when the database cannot be used.

    ``create``: a missing SQLite file is created (else it is an error, ``missing_hint`` after it).
    ``upgrade``: the schema is brought to the newest revision first (commands that write); a
    log a newer release upgraded is then refused. Commands that only read leave it as it is.
    """
    try:
        target = resolve_target(value)
    except TargetError as exc:
        err.write(f"headroom {command}: {exc}\n")
        return 1
    if not create and not is_url(target) and target != ":memory:" and not Path(target).expanduser().is_file():
        err.write(f"headroom {command}: no flow log at {describe_target(target)}\n{missing_hint}")
        return 1
    engine: Optional[Engine] = None
    try:
        engine = make_engine(target)
        if upgrade:
            from headroom_mitm.addon.store.schema import ensure_schema

            ensure_schema(engine)
        return work(engine, target)
    except TargetError as exc:  # already names the database
        err.write(f"headroom {command}: {exc}\n")
        return 1
    except _DATABASE_ERRORS as exc:
        err.write(f"headroom {command}: cannot use {describe_target(target)}: {short_reason(exc, target)}\n")
        return 1
    finally:
        if engine is not None:
            engine.dispose()
