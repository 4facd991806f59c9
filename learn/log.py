"""The flow log as learning uses it: import transcripts into it, stream tool calls out of it."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, text

from headroom_mitm.addon.store.engine import make_engine
from headroom_mitm.addon.store.entries import ToolCallEntry
from headroom_mitm.addon.store.persist import write_tool_calls
from headroom_mitm.addon.store.schema import ensure_schema
from headroom_mitm.learn.importers import iter_transcripts
from headroom_mitm.learn.records import CallRecord

logger = logging.getLogger(__name__)

__all__ = ["ImportSummary", "import_transcripts", "read_calls", "open_log"]

# rows fetched per round trip when streaming the log
STREAM_BATCH = 5000


@dataclass
class ImportSummary:
    files: int = 0
    added: int = 0
    already_present: int = 0
    by_agent: Counter = field(default_factory=Counter)


def open_log(source: str, create: bool = False) -> Engine:
    """An engine on a SQLite path or SQLAlchemy URL; ``create`` makes the tables when missing."""
    if not create and "://" not in source and not Path(source).expanduser().exists():
        raise FileNotFoundError(f"{source}: no such flow log (import transcripts or run the proxy first)")
    engine = make_engine(source)
    if create:
        ensure_schema(engine)
    return engine


def _entry(record: CallRecord, agent: str) -> ToolCallEntry:
    return ToolCallEntry(
        session_id=record.session_id,
        call_id=record.call_id,
        tool=record.tool,
        arguments=record.arguments,
        output=record.output,
        is_error=record.is_error,
        provider=record.provider or "",
        position=record.position,
        project=record.project,
        source=f"import:{agent}",
        exit_code=record.exit_code,
        seen_at=record.seen_at,
    )


def import_transcripts(paths: Iterable[str | Path], engine: Engine) -> ImportSummary:
    """Store the tool calls of every transcript under ``paths``; calls already in the log (from
    an earlier import or from the proxy) are counted, not stored again."""
    summary = ImportSummary()
    for agent, path, calls in iter_transcripts(paths):
        with engine.begin() as connection:
            written = write_tool_calls(connection, (_entry(call, agent) for call in calls))
        summary.files += 1
        summary.added += written.added
        summary.already_present += written.already_present
        summary.by_agent[agent] += written.added
        logger.info("%s: %d calls added, %d already present", path, written.added, written.already_present)
    return summary


_READ_QUERY = text(
    "SELECT session_id, project, call_id, tool, arguments, output, is_error, exit_code, position, "
    "seen_at, provider FROM tool_calls "
    "ORDER BY session_id, CASE WHEN seen_at IS NULL THEN 0 ELSE 1 END, seen_at, position, id"
)


def read_calls(engine: Engine, batch: int = STREAM_BATCH) -> Iterator[CallRecord]:
    """Every tool call, in session order then in the order it happened, fetched in batches (a
    server-side cursor on PostgreSQL) so memory stays flat however large the log is.

    Within a session calls are ordered by ``seen_at``, then ``position``: positions restart at 0
    in every subagent transcript and in every request body the proxy sees, so on their own they
    interleave a subagent's calls with its parent's. Calls without a time come first, the same
    way on every database (``chronological_key`` is the same order in memory).

    Rows are read as the driver returns them: arguments stay JSON text and timestamps stay as
    stored until mining needs them, which is for the few calls that fail.
    """
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=batch).execute(_READ_QUERY)
        for session_id, project, call_id, tool, arguments, output, is_error, exit_code, position, seen_at, provider in result:
            yield CallRecord(
                session_id=session_id or "",
                project=project,
                call_id=call_id or "",
                tool=tool or "",
                arguments=arguments,
                output=output or "",
                is_error=bool(is_error),
                exit_code=exit_code,
                position=position or 0,
                seen_at=seen_at,
                provider=provider or None,
            )
