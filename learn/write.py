"""Write learned patterns into the files agents read at startup, inside one managed block.

The block sits between two marker comment lines. Text outside it is never touched; the block's
content depends only on the patterns (no dates, no counts of runs), so learning again from the
same log leaves every byte of every file as it was.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from learn.mine import Pattern
from learn.normalize import PERSONAL_PATH

logger = logging.getLogger(__name__)

__all__ = [
    "START",
    "END",
    "AGENT_FILES",
    "render_lines",
    "render_block",
    "apply_block",
    "FileChange",
    "plan_changes",
    "MAX_LINES",
]

START = "<!-- headroom:learn:start -->"
END = "<!-- headroom:learn:end -->"
MAX_LINES = 12

AGENT_FILES = {
    "claude": Path("CLAUDE.md"),
    "codex": Path("AGENTS.md"),
    "cursor": Path(".cursor/rules/headroom.mdc"),
}

# Cursor reads rules from .mdc files with this frontmatter; alwaysApply puts it in every chat
CURSOR_FRONTMATTER = (
    "---\n"
    "description: Lessons from past sessions in this project, kept by headroom learn\n"
    "globs:\n"
    "alwaysApply: true\n"
    "---\n"
)

_HEADING = "## Learned from past sessions"
_INTRO = "Recurring tool failures seen in this project's agent sessions, and what worked instead."

_MISSING = re.compile(r"command not found|No module named|is not recognized|not installed", re.I)
_NO_PATH = re.compile(
    r"No such file or directory|does not exist|cannot access|can't open file|not found: <path>|"
    r"file or directory not found",
    re.I,
)


def _code(text: str) -> str:
    """Inline code that survives backticks inside it."""
    text = text.replace("\n", " ")
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# who printed the error ("bash: line 1: ", "/usr/bin/python3: "), not what it says
_SPEAKER = re.compile(r"^(?:<path>|bash|sh|zsh|/bin/\w+)(?:: line <n>)?: ")


def _quoted_error(error: str, limit: int = 110) -> str:
    error = re.sub(r"\s+", " ", error).strip().lstrip("- ").replace('"', "'").replace("`", "'")
    error = _SPEAKER.sub("", error)
    if len(error) > limit:
        error = error[: limit - 1].rstrip() + "…"
    return f'"{error}"'


def _sessions(count: int) -> str:
    return f"seen in {count} session{'s' if count != 1 else ''}"


def render_line(pattern: Pattern) -> str:
    """One bullet a careful engineer could have written: what fails, what to do, the evidence."""
    evidence = _sessions(pattern.evidence)
    if pattern.kind == "test-command":
        return f"- Tests run here with {_code(pattern.fix)} ({evidence.replace('seen', 'worked')})."
    trigger = _code(pattern.trigger) if pattern.tool == "bash" else f"The {pattern.trigger} tool"
    error = _quoted_error(pattern.error)
    if pattern.kind == "use-instead":
        if _MISSING.search(pattern.error):
            return f"- {trigger} is not available here ({error}); use {_code(pattern.fix)} instead ({evidence})."
        return f"- {trigger} fails with {error}; {_code(pattern.fix)} worked instead ({evidence})."
    if _NO_PATH.search(pattern.error):
        return f"- {trigger} fails with {error} when the path is wrong; check that it exists first ({evidence})."
    if pattern.tool == "bash" and not re.fullmatch(r"[^<]*<(?:arg|file|path)>(?: <(?:arg|file|path)>)*", pattern.fix):
        return f"- {trigger} fails with {error}; it worked with corrected arguments, e.g. {_code(pattern.fix)} ({evidence})."
    return f"- {trigger} fails with {error}; it worked once its arguments were corrected ({evidence})."


def render_lines(patterns: list[Pattern], limit: int = MAX_LINES) -> list[str]:
    """Ranked bullets, at most ``limit``, none naming a path under a home directory."""
    lines: list[str] = []
    seen: set[str] = set()
    for pattern in patterns:
        line = render_line(pattern)
        if PERSONAL_PATH.search(line):
            logger.info("left out a pattern that names a personal path: %s", pattern.trigger)
            continue
        if line in seen:
            continue
        seen.add(line)
        lines.append(line)
        if len(lines) >= limit:
            break
    return lines


def render_block(lines: list[str]) -> str:
    """The managed block, markers included, ending with a newline; "" when there is nothing to say."""
    if not lines:
        return ""
    return "\n".join([START, _HEADING, "", _INTRO, "", *lines, END]) + "\n"


def apply_block(existing: str | None, block: str, frontmatter: str = "") -> str | None:
    """The file's new text with ``block`` in place of the managed block.

    A file without a block gets it appended after a blank line; an empty ``block`` removes the
    managed block (and the file, if the block was all it held). None means "no file".
    """
    if existing is None:
        return frontmatter + block if block else None
    start = existing.find(START)
    end = existing.find(END, start + 1) if start != -1 else -1
    if start != -1 and end != -1:
        end_of_block = end + len(END)
        if existing[end_of_block : end_of_block + 1] == "\n":
            end_of_block += 1
        before, after = existing[:start], existing[end_of_block:]
        updated = before + block + after
        if not block and not (before + after).strip():
            return None
        if not block and frontmatter and (before + after) == frontmatter:
            return None
        return updated
    if not block:
        return existing
    if not existing:
        return frontmatter + block
    separator = "" if existing.endswith("\n\n") else ("\n" if existing.endswith("\n") else "\n\n")
    return existing + separator + block


@dataclass(frozen=True)
class FileChange:
    path: Path
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                (self.before or "").splitlines(keepends=True),
                (self.after or "").splitlines(keepends=True),
                fromfile=str(self.path) if self.before is not None else "/dev/null",
                tofile=str(self.path) if self.after is not None else "/dev/null",
            )
        )

    def apply(self) -> None:
        if not self.changed:
            return
        if self.after is None:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # newline="" keeps the file's own line endings: what is outside the block stays byte-exact
        with self.path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(self.after)


def plan_changes(root: Path, lines: list[str], agents: list[str]) -> list[FileChange]:
    """What writing ``lines`` under ``root`` would do to each agent's file."""
    block = render_block(lines)
    changes = []
    for agent in agents:
        path = root / AGENT_FILES[agent]
        before = None
        if path.exists():
            # newline="": read the file's own line endings so they are written back unchanged
            with path.open("r", encoding="utf-8", newline="") as handle:
                before = handle.read()
        frontmatter = CURSOR_FRONTMATTER if agent == "cursor" else ""
        changes.append(FileChange(path, before, apply_block(before, block, frontmatter)))
    return changes
