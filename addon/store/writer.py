"""The flow log as the proxy uses it: ``record`` returns at once; a thread does the writing.

Traffic must never wait for the database. ``record`` only puts the entry on a bounded queue; a
daemon thread takes entries off in batches, one transaction per batch.

Nothing counts as lost while there is a chance to write it:

* a transaction that lost a race with another writer (a deadlock, a serialization failure, a
  locked SQLite file) is run again at once, a few times, with a growing pause;
* while the database does not take writes at all (locked for long, read-only, full, gone), the
  batch in hand is kept and tried again every few seconds; the queue keeps filling meanwhile
  and, once full, new entries are dropped and counted. A tool call or original is marked as
  logged only after its transaction committed (``dedupe``), so a later request that carries it
  again queues it again.

Entries are given up only when the log is closed before the database came back, or when an
entry itself cannot be stored; the warning on close says how many flows, tool calls and
originals that cost. Every outage is said when it begins and when it ends.
"""

from __future__ import annotations

import logging
import os
import queue
import random
import threading
import time
from typing import Callable, Optional, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from headroom_mitm.addon.store.dedupe import Claimed, LoggedKeys
from headroom_mitm.addon.store.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine
from headroom_mitm.addon.store.entries import FlowEntry
from headroom_mitm.addon.store.errors import is_contention, short_reason
from headroom_mitm.addon.store.persist import write_flows
from headroom_mitm.addon.store.schema import ensure_schema
from headroom_mitm.addon.store.target import describe_target

__all__ = ["FlowLog"]

logger = logging.getLogger(__name__)

# SQLSTATE classes that say the database, not the entry, is the problem: connection (08),
# insufficient resources such as a full disk (53), operator intervention such as a shutdown (57),
# system errors (58); and a read-only transaction or a missing privilege, which an administrator
# may fix while the proxy runs.
_DATABASE_SQLSTATE_CLASSES = ("08", "53", "57", "58")
_DATABASE_SQLSTATES = frozenset({"25006", "42501"})
T = TypeVar("T")


class _Unavailable(Exception):
    """The database takes no writes now; the batch is to be kept and tried again."""


class FlowLog:
    """Records flows into a SQLite file or a database URL without ever holding up the caller.

    Usage::

        log = FlowLog("~/.headroom/flows.db")
        log.start()
        log.record(FlowEntry(host="api.anthropic.com", path="/v1/messages", provider="anthropic"))
        log.close()
    """

    def __init__(
        self,
        url_or_path: str | os.PathLike[str],
        *,
        max_queue: int = 1000,
        batch_size: int = 50,
        remembered_keys: int = 200_000,
        busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
        contention_attempts: int = 6,
        outage_retry_max_s: float = 5.0,
    ) -> None:
        self._url_or_path = url_or_path
        self.target = describe_target(url_or_path)
        self._busy_timeout_ms = busy_timeout_ms
        self._batch_size = max(1, batch_size)
        self._contention_attempts = max(1, contention_attempts)
        self._outage_retry_max_s = outage_retry_max_s
        self._queue: queue.Queue[Claimed] = queue.Queue(maxsize=max(1, max_queue))
        self._keys = LoggedKeys(remembered_keys)
        self._engine: Optional[Engine] = None
        self._thread: Optional[threading.Thread] = None
        self._state = "new"  # new -> running | disabled -> closed
        self._stop = threading.Event()
        self._deadline = float("inf")
        self._counts_lock = threading.Lock()
        self._pending_changed = threading.Condition(self._counts_lock)
        self._pending = 0
        self._failures = 0
        self._dropped = 0
        self._written = 0
        self._retries = 0
        self._outages = 0
        self._outage: Optional[str] = None  # why the database takes no writes, while it does not
        self._warned_dropped = False
        self._warned_bad_entry = False

    # --- what the caller sees -------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self._state == "running"

    @property
    def failures(self) -> int:
        """Entries given up: the log was not running, an entry could not be stored, or the log
        closed before the database took them."""
        return self._failures

    @property
    def dropped(self) -> int:
        """Entries shed because the queue was full (the database could not keep up)."""
        return self._dropped

    @property
    def written(self) -> int:
        """Entries committed."""
        return self._written

    @property
    def retries(self) -> int:
        """Batches run again after a failure (contention, or a database that took no writes)."""
        return self._retries

    @property
    def outages(self) -> int:
        """Times the database stopped taking writes (said once each, and again when it recurs)."""
        return self._outages

    @property
    def writable(self) -> bool:
        """Whether the last write (or the start-up probe) went through."""
        return self.enabled and self._outage is None

    def lost(self) -> tuple[int, int]:
        """(tool calls, originals) given up and not written since by a later entry."""
        return self._keys.lost()

    def start(self) -> bool:
        """Open the database, upgrade its schema, start the writer thread.

        On failure, logs a warning (never an error: that stops mitmdump at startup) and runs
        disabled: ``record`` then only counts. Returns whether the log is running; whether the
        database takes writes (``writable``) is tried and said here too.
        """
        if self._state != "new":
            return self.enabled
        try:
            self._engine = make_engine(self._url_or_path, busy_timeout_ms=self._busy_timeout_ms)
            ensure_schema(self._engine)
        except Exception as exc:
            logger.warning(
                "flow log disabled: cannot use %s (%s). Traffic is unaffected; flows are not recorded.",
                self.target,
                short_reason(exc, os.fspath(self._url_or_path)),
            )
            self._state = "disabled"
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
            return False
        self._probe()
        self._thread = threading.Thread(target=self._run, name="headroom-flow-log", daemon=True)
        self._state = "running"
        self._thread.start()
        return True

    def read(self, query: Callable[[Connection], T]) -> T | None:
        """Run ``query`` on a connection of this log, now, on the caller's thread (a startup
        read); None when the log is not running or the read fails (warned, never raised)."""
        if self._state != "running" or self._engine is None:
            return None
        try:
            with self._engine.connect() as connection:
                return query(connection)
        except Exception as exc:
            logger.warning("flow log: could not read %s (%s)", self.target, short_reason(exc))
            return None

    def record(self, entry: FlowEntry) -> None:
        """Queue ``entry`` for writing (without what this process already has logged or in hand).
        Never blocks and never raises."""
        try:
            if self._state != "running":
                self._give_up([], "the flow log is not running", count=1)
                return
            claim = self._keys.claim(entry)
            with self._counts_lock:
                self._pending += 1
            try:
                self._queue.put_nowait(claim)
            except queue.Full:
                self._keys.released([claim])
                with self._pending_changed:
                    self._pending -= 1
                    self._dropped += 1
                    first = not self._warned_dropped
                    self._warned_dropped = True
                    self._pending_changed.notify_all()
                if first:
                    logger.warning(
                        "flow log: %s is not keeping up; flows are being dropped (counted, reported on close)",
                        self.target,
                    )
        except Exception:  # a bug here must not reach the proxy's hook
            logger.debug("flow log: record failed", exc_info=True)

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until every queued entry is written or given up on. True if that happened in time
        (never while the database takes no writes: its entries are kept, not given up)."""
        with self._pending_changed:
            return self._pending_changed.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (trying for at most ``timeout`` seconds), stop, report what was lost."""
        previous, self._state = self._state, "closed"
        if previous == "running" and self._thread is not None:
            self._deadline = time.monotonic() + timeout
            self._stop.set()
            # a database call in progress may overrun the deadline by its own timeout
            self._thread.join(timeout + self._busy_timeout_ms / 1000 + 1)
            if self._thread.is_alive():
                with self._counts_lock:
                    stuck, self._pending = self._pending, 0
                    self._failures += stuck
            elif self._engine is not None:
                self._engine.dispose()
        self._report_losses()

    # --- the writer thread ----------------------------------------------------------------

    def _run(self) -> None:
        held: list[Claimed] = []
        pause = 0.25
        while True:
            if self._stop.is_set() and time.monotonic() >= self._deadline:
                break
            if not held:
                held = self._next_batch()
                if not held:
                    if self._stop.is_set():
                        return
                    continue
            else:
                with self._counts_lock:
                    self._retries += 1
            held = self._write(held)
            if not held:
                pause = 0.25
                continue
            self._pause(pause)
            pause = min(pause * 2, self._outage_retry_max_s)
        self._give_up(held + self._drain(), self._outage or "the flow log was closed")

    def _probe(self) -> None:
        """Say at start whether the database takes writes: a write that changes nothing, committed."""
        assert self._engine is not None
        try:
            with self._engine.begin() as connection:
                connection.execute(text("UPDATE meta SET value = value WHERE key = 'schema_version'"))
        except Exception as exc:
            self._outage = short_reason(exc, os.fspath(self._url_or_path))
            with self._counts_lock:
                self._outages += 1
            logger.warning(
                "flow log: %s does not take writes (%s). Traffic is unaffected; flows are kept "
                "(up to %d) and written once it does.",
                self.target,
                self._outage,
                self._queue.maxsize,
            )
            return
        logger.info("flow log: writing to %s", self.target)

    def _next_batch(self) -> list[Claimed]:
        batch: list[Claimed] = []
        try:
            batch.append(self._queue.get_nowait() if self._stop.is_set() else self._queue.get(timeout=0.25))
        except queue.Empty:
            return batch
        while len(batch) < self._batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _drain(self) -> list[Claimed]:
        rest: list[Claimed] = []
        while True:
            try:
                rest.append(self._queue.get_nowait())
            except queue.Empty:
                return rest

    def _write(self, batch: list[Claimed]) -> list[Claimed]:
        """Commit ``batch``; return what is still to be written because the database takes no writes."""
        try:
            self._commit(batch)
        except _Unavailable:
            return batch
        except Exception as exc:
            if len(batch) == 1:
                self._give_up(batch, short_reason(exc, os.fspath(self._url_or_path)), bad_entry=True)
                return []
            # one bad entry must not take the others down with it
            for index, claim in enumerate(batch):
                if self._write([claim]):
                    return batch[index:]
            return []
        self._committed(batch)
        return []

    def _commit(self, batch: list[Claimed]) -> None:
        assert self._engine is not None
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                with self._engine.begin() as connection:
                    write_flows(connection, [claim.entry for claim in batch])
                return
            except Exception as exc:
                if self._worth_retrying_now(exc, attempt, started):
                    attempt += 1
                    with self._counts_lock:
                        self._retries += 1
                    time.sleep(min(1.0, 0.02 * 2**attempt) * random.uniform(0.5, 1.5))
                    continue
                if is_contention(exc) or _is_database_failure(exc):
                    self._begin_outage(short_reason(exc, os.fspath(self._url_or_path)), len(batch))
                    raise _Unavailable() from exc
                raise

    def _worth_retrying_now(self, exc: Exception, attempt: int, started: float) -> bool:
        if not is_contention(exc) or attempt + 1 >= self._contention_attempts:
            return False
        if self._stop.is_set() and time.monotonic() >= self._deadline:
            return False
        # SQLite already waited busy_timeout for the lock: an immediate retry would only wait again
        waited = time.monotonic() - started
        return not (self._engine.dialect.name == "sqlite" and waited >= 0.8 * self._busy_timeout_ms / 1000)

    def _pause(self, seconds: float) -> None:
        seconds *= random.uniform(0.8, 1.2)
        if self._stop.is_set():
            time.sleep(max(0.0, min(seconds, self._deadline - time.monotonic())))
        else:
            self._stop.wait(seconds)

    # --- bookkeeping ----------------------------------------------------------------------

    def _committed(self, batch: list[Claimed]) -> None:
        self._keys.committed(batch)
        with self._pending_changed:
            self._written += len(batch)
            self._pending -= len(batch)
            recovered, self._outage = self._outage, None
            if recovered is not None:
                self._warned_dropped = False
            self._pending_changed.notify_all()
        if recovered is not None:
            logger.warning("flow log: %s takes writes again; the flows kept meanwhile are being written", self.target)

    def _begin_outage(self, reason: str, kept: int) -> None:
        with self._counts_lock:
            first = self._outage is None
            self._outage = reason
            if first:
                self._outages += 1
        if first:
            logger.warning(
                "flow log: cannot write to %s (%s). Traffic is unaffected; %d flows are kept and "
                "tried again until it takes writes (up to %d more are queued meanwhile).",
                self.target,
                reason,
                kept,
                self._queue.maxsize,
            )

    def _give_up(self, claims: list[Claimed], reason: str, *, bad_entry: bool = False, count: int = 0) -> None:
        self._keys.released(claims)
        with self._pending_changed:
            self._failures += len(claims) + count
            self._pending -= len(claims)
            first_bad = bad_entry and not self._warned_bad_entry
            self._warned_bad_entry = self._warned_bad_entry or bad_entry
            self._pending_changed.notify_all()
        if first_bad:
            logger.warning("flow log: a flow could not be stored in %s (%s); it is left out", self.target, reason)
        elif claims and not bad_entry:
            logger.warning(
                "flow log: %d flows could not be written to %s before it closed (%s)", len(claims), self.target, reason
            )

    def _report_losses(self) -> None:
        if self._retries or self._outages:
            logger.info(
                "flow log: %d flows written to %s; %d batches run again after contention or an outage, %d outages",
                self._written,
                self.target,
                self._retries,
                self._outages,
            )
        if not (self._failures or self._dropped):
            return
        calls, originals = self._keys.lost()
        lost_content = ""
        if calls or originals:
            lost_content = f"; not in the log: {calls} tool calls, {originals} originals (#refs that resolve to nothing)"
        logger.warning(
            "flow log: %d flows written to %s, %d failed, %d dropped%s",
            self._written,
            self.target,
            self._failures,
            self._dropped,
            lost_content,
        )


def _is_database_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is the database refusing every write, rather than this entry being bad."""
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeoutError)):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        return sqlstate in _DATABASE_SQLSTATES or sqlstate[:2] in _DATABASE_SQLSTATE_CLASSES
    return False
