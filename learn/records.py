"""The shape of one tool call as learning sees it, whether it came from the log or a transcript."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
    seen_at: datetime | None = None
    exit_code: int | None = None
    provider: str | None = None
