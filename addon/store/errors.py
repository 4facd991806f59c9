"""What can go wrong with the flow log, said in one line, and which failures are worth retrying."""

from __future__ import annotations

from typing import Optional

from headroom_mitm.addon.store.target import TargetError, mask_credentials

__all__ = ["FlowLogError", "SchemaTooNew", "is_contention", "short_reason"]

# PostgreSQL's deadlock_detected and serialization_failure: the transaction lost a race with
# another writer and succeeds when run again.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
# SQLITE_BUSY and SQLITE_LOCKED: another connection holds the lock.
_RETRYABLE_SQLITE_CODES = frozenset({5, 6})


class FlowLogError(Exception):
    """The flow log cannot be used; the message names it (password masked) and says why."""


class SchemaTooNew(FlowLogError):
    """The log was upgraded by a newer release than this one."""


def short_reason(exc: BaseException, target: Optional[str] = None) -> str:
    """An exception as one line, without SQLAlchemy's statement and parameter dump (which could
    hold conversation text), any password masked."""
    if isinstance(exc, (FlowLogError, TargetError)):  # our own messages: already one line
        return mask_credentials(str(exc), target)
    original = getattr(exc, "orig", None)
    cause = original if original is not None else exc
    lines = str(cause).strip().splitlines()
    first = lines[0].strip() if lines else ""
    return mask_credentials(f"{type(cause).__name__}: {first}" if first else type(cause).__name__, target)


def is_contention(exc: BaseException) -> bool:
    """Whether ``exc`` says another writer got in the way (a deadlock, a serialization failure,
    a locked SQLite file): the same transaction is worth running again."""
    original = getattr(exc, "orig", None) or exc
    if getattr(original, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    code = getattr(original, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _RETRYABLE_SQLITE_CODES:
        return True
    text = str(original).lower()
    return "database is locked" in text or "database table is locked" in text
