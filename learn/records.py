"""The shape of one tool call as learning sees it, whether it came from the log or a transcript."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


@dataclass
class CallRecord:
    """One tool call with its result.

    ``tool`` is the name as the agent sent it (normalised only when mining), so that an
    imported transcript and the proxied conversation store the same row.
    """

    session_id: str
    project: str | None
    call_id: str
    tool: str
    arguments: Any
    output: str
    is_error: bool
    position: int
    seen_at: datetime | str | None = None
    """A datetime, or the text SQLite stores; ``when()`` reads either."""
    exit_code: int | None = None
    provider: str | None = None

    def when(self) -> datetime | None:
        """``seen_at`` as an aware UTC datetime."""
        return as_utc(self.seen_at)


def as_utc(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)


def chronological_key(record: CallRecord) -> tuple:
    """The order mining reads a log in: by session, then by time, then by position.

    Positions alone are not chronological: a Claude Code subagent transcript carries its
    parent's session id and numbers its calls from 0 again, and the proxy numbers calls per
    request body. Calls without a time sort first, as ``learn.log.read_calls`` orders them.
    """
    when = record.when()
    return (record.session_id, when is not None, when or _EARLIEST, record.position)
