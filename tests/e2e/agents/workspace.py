"""A small project for an agent to work in: a git history, a service log, a failing test.

Everything is generated, deterministic (fixed authors and dates) and made with ``git`` and files
only, so the commands an agent runs there print the same text on every machine. The commands in
:data:`COMMANDS` print outputs long enough for the shipped rules to compress.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

__all__ = ["make_workspace", "COMMANDS", "FIRST_COMMIT_SUBJECT", "LOG_LINES"]

COMMITS = 60
LOG_LINES = 1500
FIRST_COMMIT_SUBJECT = "Add the inventory module"

COMMANDS = {
    "log_tail": "tail -n 150 logs/app.log",
    "git_log_stat": "git log --stat",
    "git_log": "git log",
    "failing_test": "python3 -m unittest -v tests.test_inventory",
}
"""Shell commands an agent runs there. The shipped rules fold the log tail (``log``), send the
plain ``git log`` after ``git log --stat`` as references to lines already sent (``seen``), and
keep the failing test's output whole (it is an error). Each output stays under the size from which
Claude Code stores an output in a file and sends a note instead (about 30 KB)."""

_INVENTORY = '''"""Inventory module."""


class Inventory:
    def __init__(self) -> None:
        self.items: dict[str, int] = {}

    def add(self, name: str, count: int) -> None:
        self.items[name] = self.items.get(name, 0) + count

    def total(self) -> int:
        return sum(self.items.values()) - 1
'''

_TEST = '''import sys
import unittest

sys.path.insert(0, "src")
from inventory import Inventory  # noqa: E402


class InventoryTest(unittest.TestCase):
    def test_add(self) -> None:
        inventory = Inventory()
        inventory.add("bolt", 3)
        self.assertEqual(inventory.items, {"bolt": 3})

    def test_total(self) -> None:
        inventory = Inventory()
        inventory.add("bolt", 3)
        inventory.add("nut", 4)
        self.assertEqual(inventory.total(), 7)


if __name__ == "__main__":
    unittest.main()
'''


def _service_log() -> str:
    lines = []
    for number in range(LOG_LINES):
        minute, second = divmod(number, 60)
        stamp = f"2026-12-01T10:{minute % 60:02d}:{second:02d}.{number % 1000:03d}Z"
        if number % 10 == 8:
            lines.append(f"{stamp} WARN  slow query took {200 + number % 90}ms table=orders")
        elif number % 10 == 9:
            lines.append(f"{stamp} INFO  heartbeat ok")
        else:
            lines.append(f"{stamp} INFO  worker-{number % 4} processed batch id={1000 + number} items=50 status=ok")
    return "\n".join(lines) + "\n"


def _git(folder: Path, *args: str, when: int = 0) -> None:
    date = f"2026-11-{1 + when // 24:02d}T{when % 24:02d}:00:00Z"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.test",
        "GIT_COMMITTER_NAME": "Test Author", "GIT_COMMITTER_EMAIL": "author@example.test",
        "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull,
    }
    subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True, timeout=30)


def make_workspace(folder: Path) -> Path:
    """Create the project in ``folder`` (made if missing) and return it."""
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "tests").mkdir(exist_ok=True)
    (folder / "logs").mkdir(exist_ok=True)
    _git(folder, "init", "-q", "-b", "main")
    (folder / "src" / "inventory.py").write_text(_INVENTORY)
    (folder / "tests" / "__init__.py").write_text("")
    (folder / "tests" / "test_inventory.py").write_text(_TEST)
    _git(folder, "add", ".")
    _git(folder, "commit", "-q", "-m", FIRST_COMMIT_SUBJECT)
    for number in range(1, COMMITS):
        notes = folder / "docs" / f"note-{number % 7}.md"
        notes.parent.mkdir(exist_ok=True)
        with notes.open("a") as handle:
            handle.write(f"Change {number}: adjust the inventory totals for warehouse {number % 5}.\n")
        _git(folder, "add", ".")
        _git(folder, "commit", "-q", "-m", f"Adjust warehouse {number % 5} totals (change {number})", when=number)
    (folder / "logs" / "app.log").write_text(_service_log())  # untracked, as a service log is
    return folder
