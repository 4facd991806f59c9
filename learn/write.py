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

from headroom_mitm.learn.mine import Pattern
from headroom_mitm.learn.normalize import NO_SUCH_PATH, PERSONAL_PATH

logger = logging.getLogger(__name__)

__all__ = [
    "START",
    "END",
    "AGENT_FILES",
    "render_lines",
    "rendered",
    "written_for",
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


# rival fixes mentioned besides the advised one, and the sessions each needs to be mentioned
MAX_ALTERNATIVES = 2
MIN_ALTERNATIVE_SESSIONS = 2


def _alternatives(pattern: Pattern) -> list[tuple[str, int]]:
    return [
        (fix, count) for fix, count in pattern.ranked_fixes[1:] if count >= MIN_ALTERNATIVE_SESSIONS
    ][:MAX_ALTERNATIVES]


def _listing(commands: list[str], limit: int = 3) -> str:
    shown = [_code(command) for command in commands[:limit]]
    return ", ".join(shown)


def _what_worked(pattern: Pattern) -> str:
    """The advised fix and its evidence; rival fixes that worked in other sessions are ranked
    after it rather than left to contradict it in a line of their own."""
    fix, worked = pattern.ranked_fixes[0]
    alternatives = _alternatives(pattern)
    if alternatives:
        others = ", ".join(f"{_code(other)} ({count})" for other, count in alternatives)
        return f"what worked instead: {_code(fix)} ({worked} of {pattern.evidence} sessions), {others}"
    if worked < pattern.evidence:
        return f"use {_code(fix)} instead (worked in {worked} of {pattern.evidence} sessions)"
    return f"use {_code(fix)} instead ({_sessions(pattern.evidence)})"


def render_line(pattern: Pattern) -> str:
    """One bullet a careful engineer could have written: what fails, what to do, the evidence."""
    evidence = _sessions(pattern.evidence)
    if pattern.kind == "test-command":
        alternatives = _alternatives(pattern)
        also = "".join(f", {_code(fix)} in {count}" for fix, count in alternatives)
        worked = evidence.replace("seen", "worked")
        return f"- Tests run here with {_code(pattern.fix)} ({worked}{also})."
    trigger = _code(pattern.trigger) if pattern.tool == "bash" else f"The {pattern.trigger} tool"
    error = _quoted_error(pattern.error)
    if pattern.kind == "use-instead":
        if pattern.missing:
            failing = _listing(pattern.triggers or [pattern.trigger])
            verb = "fails" if len(pattern.triggers) <= 1 else "fail"
            # a rival fix that runs the missing program itself: installed in some sessions only
            fixes = [fix for fix, _ in pattern.ranked_fixes[:1] + _alternatives(pattern)]
            runs_it = any(fix.split(" ")[0].rsplit("/", 1)[-1] == pattern.missing for fix in fixes)
            state = "is not always installed" if runs_it else "is not installed"
            return f"- {_code(pattern.missing)} {state} here ({failing} {verb}); {_what_worked(pattern)}."
        if len(pattern.ranked_fixes) == 1 or not _alternatives(pattern) and pattern.fix_evidence == pattern.evidence:
            if NO_SUCH_PATH.search(pattern.error) and pattern.fix.split(" ")[0] == pattern.trigger.split(" ")[0]:
                # the same program with an option that tolerates the missing path (rm -f)
                return f"- {trigger} fails on a path that does not exist ({error}); {_code(pattern.fix)} worked instead ({evidence})."
            return f"- {trigger} fails with {error}; {_code(pattern.fix)} worked instead ({evidence})."
        return f"- {trigger} fails with {error}; {_what_worked(pattern)}."
    # fix-arguments: only the wrong-path kind is written (see Pattern.advice)
    return f"- {trigger} fails with {error} when the path is wrong; check that it exists first ({evidence})."


def render_lines(patterns: list[Pattern], limit: int = MAX_LINES) -> list[str]:
    """Ranked bullets, at most ``limit``, none naming a path under a home directory."""
    return [line for _, line in rendered(patterns, limit)]


def rendered(patterns: list[Pattern], limit: int = MAX_LINES) -> list[tuple[Pattern, str]]:
    """(pattern, its bullet) for what :func:`render_lines` writes."""
    lines: list[tuple[Pattern, str]] = []
    seen: set[str] = set()
    for pattern in patterns:
        if not pattern.advice:
            continue
        line = render_line(pattern)
        if PERSONAL_PATH.search(line):
            logger.info("left out a pattern that names a personal path: %s", pattern.trigger)
            continue
        if line in seen:
            continue
        seen.add(line)
        lines.append((pattern, line))
        if len(lines) >= limit:
            break
    return lines


def written_for(chosen: list[Pattern], limit: int = MAX_LINES) -> list[tuple[str, str]]:
    """(scope, line) for every line ``--project all`` writes from ``chosen``: each project's
    file, with a line that recurs across projects counted once under "all"."""
    from headroom_mitm.learn.mine import select_patterns

    written: dict[tuple[str, str], None] = {}
    for project in sorted({name for pattern in chosen for name in pattern.projects if name}):
        for pattern, line in rendered(select_patterns(chosen, project, 1), limit):
            written[(pattern.scope, line)] = None
    return list(written)


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
        """A unified diff that always ends with a newline, so whatever is printed after it
        starts on a line of its own (a file whose last line has none is marked as ``diff`` does)."""
        lines = difflib.unified_diff(
            (self.before or "").splitlines(keepends=True),
            (self.after or "").splitlines(keepends=True),
            fromfile=str(self.path) if self.before is not None else "/dev/null",
            tofile=str(self.path) if self.after is not None else "/dev/null",
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)

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
