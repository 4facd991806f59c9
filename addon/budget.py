"""A time budget for one body's rewrite: past it the body goes upstream as the client sent it.

Checked between pieces of work (each output, each turn counted), so the worker that holds it is
free again soon after the budget ends, and what was done so far stays in the memos: the
conversation's next request picks up from there.
"""

from __future__ import annotations

import time
from typing import Callable

__all__ = ["Deadline", "OverBudget"]


class OverBudget(Exception):
    """The rewrite took longer than its budget."""


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self._at:
            raise OverBudget(f"the rewrite took over its {self.seconds:g} s budget")

    def counting(self, count: Callable[[str], int]) -> Callable[[str], int]:
        """``count`` that checks the deadline before each text."""
        def checked(text: str) -> int:
            self.check()
            return count(text)
        return checked
