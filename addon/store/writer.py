"""The flow log as the proxy uses it: ``record`` returns at once; a thread does the writing.

Traffic must never wait for the database. ``record`` only puts the entry on a bounded queue; a
daemon thread takes entries off in batches, one transaction per batch. When the database is slow,
locked, read-only or gone, entries are counted (``failures``; ``dropped`` when the queue is full)
and one warning says so; nothing is raised into the caller and nothing blocks it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import OrderedDict
from typing import Optional

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from headroom_mitm.addon.store.engine import SQLITE_BUSY_TIMEOUT_MS, describe_target, make_engine
from headroom_mitm.addon.store.entries import FlowEntry
from headroom_mitm.addon.store.persist import write_flow
from headroom_mitm.addon.store.schema import ensure_schema

__all__ = ["FlowLog"]

logger = logging.getLogger(__name__)

_STOP = object()


class _RecentFingerprints:
    """The fingerprints written lately (a bounded LRU set), so a conversation's earlier tool calls,
    repeated in every request, are not even looked up again."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, fingerprint: object) -> bool:
        if fingerprint in self._items:
            self._items.move_to_end(fingerprint)  # type: ignore[arg-type]
            return True
        return False

    def add(self, fingerprint: str) -> None:
        self._items[fingerprint] = None
        self._items.move_to_end(fingerprint)
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)


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
        remembered_fingerprints: int = 50_000,
        busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    ) -> None:
        self.target = describe_target(url_or_path)
        self._url_or_path = url_or_path
        self._busy_timeout_ms = busy_timeout_ms
        self._batch_size = max(1, batch_size)
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, max_queue))
        self._recent = _RecentFingerprints(remembered_fingerprints)
        self._engine: Optional[Engine] = None
        self._thread: Optional[threading.Thread] = None
        self._state = "new"  # new -> running | disabled -> closed
        self._counts_lock = threading.Lock()
        self._pending_changed = threading.Condition(self._counts_lock)
        self._pending = 0
        self._failures = 0
        self._dropped = 0
        self._written = 0
        self._warned_failure = False
        self._warned_dropped = False

    # --- what the caller sees -------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self._state == "running"

    @property
    def failures(self) -> int:
        """Entries the database did not take (it failed, or could not be opened at all)."""
        return self._failures

    @property
    def dropped(self) -> int:
        """Entries shed because the queue was full (the database could not keep up)."""
        return self._dropped

    @property
    def written(self) -> int:
        """Entries committed."""
        return self._written

    def start(self) -> bool:
        """Open the database, create or migrate the schema, start the writer thread.

        On failure, logs a warning (never an error: that stops mitmdump at startup) and runs
        disabled: ``record`` then only counts. Returns whether the log is running.
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
                _short(exc),
            )
            self._state = "disabled"
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
            return False
        self._thread = threading.Thread(target=self._run, name="headroom-flow-log", daemon=True)
        self._state = "running"
        self._thread.start()
        logger.info("flow log: writing to %s", self.target)
        return True

    def record(self, entry: FlowEntry) -> None:
        """Queue ``entry`` for writing. Never blocks and never raises."""
        try:
            if self._state != "running":
                self._count_failure(1, "the flow log is not running")
                return
            with self._counts_lock:
                self._pending += 1
            try:
                self._queue.put_nowait(entry)
            except queue.Full:
                with self._counts_lock:
                    self._pending -= 1
                    self._dropped += 1
                    first = not self._warned_dropped
                    self._warned_dropped = True
                if first:
                    logger.warning(
                        "flow log: %s is not keeping up; flows are being dropped (counted, reported on close)",
                        self.target,
                    )
        except Exception:  # a bug here must not reach the proxy's hook
            logger.debug("flow log: record failed", exc_info=True)

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until every queued entry is written or given up on. True if that happened in time."""
        with self._pending_changed:
            return self._pending_changed.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (waiting at most ``timeout`` seconds), stop, report what was lost."""
        previous, self._state = self._state, "closed"
        if previous == "running" and self._thread is not None:
            deadline = time.monotonic() + timeout
            try:
                self._queue.put(_STOP, timeout=timeout)
            except queue.Full:
                pass
            self._thread.join(max(0.0, deadline - time.monotonic()))
            if self._thread.is_alive():
                logger.warning(
                    "flow log: %s did not finish writing within %.1fs; %d queued flows are lost",
                    self.target,
                    timeout,
                    self._pending,
                )
            elif self._engine is not None:
                self._engine.dispose()
        if self._failures or self._dropped:
            logger.warning(
                "flow log: %d flows written to %s, %d failed, %d dropped",
                self._written,
                self.target,
                self._failures,
                self._dropped,
            )

    # --- the writer thread ----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch: list[FlowEntry] = [item]  # type: ignore[list-item]
            stop_after = False
            while len(batch) < self._batch_size:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop_after = True
                    break
                batch.append(item)  # type: ignore[arg-type]
            try:
                self._write_batch(batch)
            except Exception as exc:  # the thread must outlive any failure
                self._count_failure(len(batch), _short(exc))
            finally:
                with self._pending_changed:
                    self._pending -= len(batch)
                    self._pending_changed.notify_all()
            if stop_after:
                return

    def _write_batch(self, batch: list[FlowEntry]) -> None:
        assert self._engine is not None
        try:
            with self._engine.begin() as connection:
                for entry in batch:
                    write_flow(connection, entry, skip_fingerprints=self._recent)
        except OperationalError as exc:
            # the database itself is failing (locked past the timeout, read-only, gone):
            # trying each entry again would only wait out the same lock once per entry
            self._count_failure(len(batch), _short(exc))
            return
        except Exception:
            if len(batch) == 1:
                raise
            # one bad entry must not take the others down with it
            for entry in batch:
                self._write_one(entry)
            return
        self._remember(batch)

    def _write_one(self, entry: FlowEntry) -> None:
        assert self._engine is not None
        try:
            with self._engine.begin() as connection:
                write_flow(connection, entry, skip_fingerprints=self._recent)
        except Exception as exc:
            self._count_failure(1, _short(exc))
            return
        self._remember([entry])

    def _remember(self, entries: list[FlowEntry]) -> None:
        for entry in entries:
            for call in entry.tool_calls:
                self._recent.add(call.fingerprint)
        with self._counts_lock:
            self._written += len(entries)

    def _count_failure(self, count: int, reason: str) -> None:
        with self._counts_lock:
            self._failures += count
            first = not self._warned_failure
            self._warned_failure = True
        if first:
            logger.warning(
                "flow log: could not write to %s (%s). Traffic is unaffected; further failures "
                "are counted and reported on close.",
                self.target,
                reason,
            )


def _short(exc: BaseException) -> str:
    """An exception as one line, without SQLAlchemy's statement and parameter dump (which could
    hold conversation text)."""
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc).strip().splitlines()
    return f"{type(original or exc).__name__}: {text[0] if text else ''}"
