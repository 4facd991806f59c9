"""Entries shaped like what the proxy records, and ways to read back what the log holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from headroom_mitm.addon.store import FlowEntry, FlowLog, ToolCallEntry, make_engine
from headroom_mitm.addon.store.models import Base


def tool_call(position: int, session_id: str = "session-1", **overrides: Any) -> ToolCallEntry:
    values: dict[str, Any] = dict(
        session_id=session_id,
        call_id=f"toolu_{session_id}_{position}",
        tool="Bash",
        arguments={"command": f"pytest -k case_{position}"},
        output=f"<returncode>{position % 2}</returncode>\n<output>run {position}</output>",
        is_error=position % 2 == 1,
        provider="anthropic",
        position=position,
        project="/home/dev/project",
    )
    values.update(overrides)
    return ToolCallEntry(**values)


def request_entry(turn: int, session_id: str = "session-1", **overrides: Any) -> FlowEntry:
    """The flow of a conversation's ``turn``-th request: it repeats every earlier tool call."""
    values: dict[str, Any] = dict(
        host="api.anthropic.com",
        path="/v1/messages?beta=true",
        provider="anthropic",
        model="claude-sonnet-4-5",
        status_code=200,
        latency_ms=120.5,
        tokens_before=1000 * (turn + 1),
        tokens_after=600 * (turn + 1),
        usage_input=50,
        usage_output=20,
        usage_cache_read=900,
        usage_cache_write=10,
        session_id=session_id,
        project="/home/dev/project",
        tool_calls=[tool_call(position, session_id) for position in range(turn + 1)],
        tool_outputs=turn + 1,
    )
    values.update(overrides)
    return FlowEntry(**values)


def rows(target: str, model: type[Base]) -> list[Any]:
    engine = make_engine(target)
    try:
        with Session(engine) as session:
            found = list(session.scalars(select(model)))
            session.expunge_all()
            return found
    finally:
        engine.dispose()


def count(target: str, model: type[Base]) -> int:
    engine = make_engine(target)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(model)).scalar_one())
    finally:
        engine.dispose()


def record_all(target: str, entries: list[FlowEntry], **options: Any) -> FlowLog:
    """Record ``entries`` through a fresh FlowLog and close it; returns the closed log."""
    log = FlowLog(target, **options)
    assert log.start(), f"flow log did not start on {target}"
    for entry in entries:
        log.record(entry)
    log.close(timeout=30)
    return log
