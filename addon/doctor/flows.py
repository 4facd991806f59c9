"""Does traffic reach the log (recent flows per agent), and can the log be written?"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from headroom_mitm.addon.doctor.context import Context, Result

RECENT = timedelta(hours=24)
AGENT_WINDOW = timedelta(days=7)
SLACK = timedelta(minutes=10)
"""A session file is written a moment after its request: a flow this much older still counts."""

# An agent, where it keeps its sessions, and the hosts its requests go to.
AGENTS = (
    ("Claude Code", ("CLAUDE_CONFIG_DIR", ".claude"), "projects", ("api.anthropic.com",), "claude"),
    ("Codex", ("CODEX_HOME", ".codex"), "sessions", ("chatgpt.com", "api.openai.com"), "codex"),
)
_BYPASS_FIX = ("start it from a shell with the variables (open a new shell after headroom setup) "
               "or as headroom wrap {command}")


def check_recent_flows(context: Context) -> list[Result]:
    from sqlalchemy import func, select

    from headroom_mitm.addon.store.engine import describe_target, is_url, make_engine
    from headroom_mitm.addon.store.errors import short_reason
    from headroom_mitm.addon.store.models import Flow
    from headroom_mitm.addon.store.target import TargetError

    try:
        target = context.db_target
    except TargetError as exc:
        return [Result("flows", False, str(exc), "see the database check")]
    if not is_url(target) and not Path(target).expanduser().is_file():
        latest: dict[str, datetime] = {}
        counts: dict[str, int] = {}
    else:
        try:
            engine = make_engine(target)
        except TargetError as exc:
            return [Result("flows", False, str(exc), "see the database check")]
        try:
            with engine.connect() as connection:
                latest = dict(connection.execute(select(Flow.host, func.max(Flow.started_at)).group_by(Flow.host)).all())
                since = context.now - RECENT
                counts = dict(connection.execute(select(Flow.provider, func.count(Flow.id))
                                                 .where(Flow.started_at >= since).group_by(Flow.provider)).all())
        except Exception as exc:
            return [Result("flows", False, f"cannot read {describe_target(target)}: {short_reason(exc, target)}",
                           "see the database check")]
        finally:
            engine.dispose()
    latest = {host: _aware(moment) for host, moment in latest.items() if moment is not None}
    results = []
    for name, (variable, folder), sessions, hosts, command in AGENTS:
        ran = _newest_session(Path(context.environ.get(variable) or context.home / folder) / sessions)
        if ran is None or ran < context.now - AGENT_WINDOW:
            continue
        through = max((latest[host] for host in hosts if host in latest), default=None)
        if through is not None and through >= ran - SLACK:
            results.append(Result("flows", True, f"{name}: last session {_when(ran)}, its requests reach the proxy "
                                  f"(last {_when(through)})"))
        else:
            seen = f"the last one through the proxy was {_when(through)}" if through else "none ever reached the proxy"
            results.append(Result("flows", False, f"{name} ran {_when(ran)}, but no request to {' or '.join(hosts)} "
                                  f"came through the proxy since: {seen}. It bypasses Headroom.",
                                  _BYPASS_FIX.format(command=command)))
    if not results:
        total = sum(counts.values())
        by = ", ".join(f"{provider or '?'} {count}" for provider, count in sorted(counts.items()))
        results.append(Result("flows", True, f"{total} flows in the last 24 h ({by})") if total else
                       Result("flows", False, "no flow in the last 24 h: if agents ran, they went around the proxy",
                              _BYPASS_FIX.format(command="AGENT")))
    return results


def check_database(context: Context) -> Result:
    from headroom_mitm.addon.store.engine import describe_target, is_url
    from headroom_mitm.addon.store.errors import short_reason
    from headroom_mitm.addon.store.target import TargetError

    try:
        target = context.db_target
    except TargetError as exc:
        return Result("database", False, str(exc), "give the database as --db URL, @FILE or $HEADROOM_DB")
    shown = describe_target(target)
    fix = f"make {shown} and its folder writable by you, or point the proxy elsewhere: --set headroom_db=PATH"
    if not is_url(target):
        path = Path(target).expanduser()
        if not path.exists():
            parent = path.parent
            while not parent.exists():
                parent = parent.parent
            if parent.is_dir() and os.access(parent, os.W_OK):
                return Result("database", True, f"{shown} does not exist yet; the proxy will create it")
            return Result("database", False, f"{shown} cannot be created: {parent} is not a writable folder", fix)
    try:
        _write_and_take_back(target)
    except Exception as exc:
        return Result("database", False, f"cannot write to {shown}: {short_reason(exc, target)}", fix)
    return Result("database", True, f"{shown} is writable")


def _write_and_take_back(target: str) -> None:
    """A real write, rolled back: permissions, read-only mounts, full disks and locks all show."""
    from sqlalchemy import text

    from headroom_mitm.addon.store.engine import is_url, make_engine

    statements = ("CREATE TABLE headroom_doctor_write_check (probe INTEGER)",
                  "INSERT INTO headroom_doctor_write_check VALUES (1)")
    if not is_url(target):
        import sqlite3

        # explicit BEGIN: the sqlite3 module would commit the CREATE TABLE on its own
        connection = sqlite3.connect(Path(target).expanduser(), timeout=2, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            for statement in statements:
                connection.execute(statement)
            connection.execute("ROLLBACK")
        finally:
            connection.close()
        return
    engine = make_engine(target, busy_timeout_ms=2000)
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            for statement in statements:
                connection.execute(text(statement))
            transaction.rollback()
    finally:
        engine.dispose()


def _newest_session(folder: Path) -> datetime | None:
    newest = None
    try:
        for path in folder.rglob("*.jsonl"):
            mtime = path.stat().st_mtime
            newest = mtime if newest is None or mtime > newest else newest
    except OSError:
        return None
    return None if newest is None else datetime.fromtimestamp(newest, timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")
