"""Following a rule file as a person edits it, without ever dropping to no rules."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Callable

from headroom_mitm.rules.errors import RulesError
from headroom_mitm.rules.loader import load_rules
from headroom_mitm.rules.match import RuleSet

logger = logging.getLogger(__name__)


class RulesWatcher:
    """Hands out the current rules; re-stats the file at most once a second and reloads on change.

    A broken edit keeps the last good rules and logs a WARNING with the file:line problem (an
    ERROR would make mitmdump exit at startup). ``path=None`` means the shipped default.
    The first load raises ``RulesError``: starting with rules that do not parse is a user error.
    """

    def __init__(self, path: str | None, interval: float = 1.0,
                 loader: Callable[[str | None], RuleSet] = load_rules,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._interval = interval
        self._loader = loader
        self._clock = clock
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._rules = loader(path)
        self._checked_at = clock()
        self._failed_stamp: Any = None

    def current(self) -> RuleSet:
        if self.path is None:
            return self._rules
        now = self._clock()
        if now - self._checked_at < self._interval:
            return self._rules
        with self._lock:
            if now - self._checked_at < self._interval:
                return self._rules
            self._checked_at = now
            stamp = self._stat()
            if stamp != self._stamp and stamp != self._failed_stamp:
                self._reload(stamp)
        return self._rules

    def _reload(self, stamp: Any) -> None:
        try:
            self._rules = self._loader(self.path)
        except RulesError as exc:
            # warned once per broken version of the file, not once a second
            self._failed_stamp = stamp
            logger.warning("rules not reloaded, keeping the last good rules: %s", exc)
            return
        self._stamp = stamp
        self._failed_stamp = None
        logger.info("rules reloaded from %s", self.path)

    def _stat(self) -> Any:
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
        except OSError as exc:
            return ("missing", type(exc).__name__)
        return (st.st_mtime_ns, st.st_size, st.st_ino)
