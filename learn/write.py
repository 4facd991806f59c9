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
from headroom_mitm.learn.normalize import FORCING, PERSONAL_PATH
from headroom_mitm.learn.projects import project_name

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
    "BlockError",
    "find_blocks",
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

# never written at all: a commit hash
_COMMIT_HASH = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b")


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
    return f"use {_code(fix)} instead ({_evidence(pattern)})"


def render_line(pattern: Pattern) -> str:
    """One bullet a careful engineer could have written: one rule, with its evidence."""
    evidence = _evidence(pattern)
    if pattern.kind == "test-command":
        alternatives = _alternatives(pattern)
        also = "".join(f", {_code(fix)} in {count}" for fix, count in alternatives)
        worked = _sessions(pattern.evidence).replace("seen", "worked")
        return f"- Tests run here with {_code(pattern.fix)} ({worked}{also})."
    if pattern.kind == "harness":
        return f"- The harness refuses {_refused(pattern)} ({_quoted_error(pattern.error)}): {pattern.fix} ({evidence})."
    trigger = _code(pattern.command or pattern.trigger) if pattern.tool == "bash" else f"The {pattern.trigger} tool"
    error = _quoted_error(pattern.error)
    if pattern.kind == "named-fix":
        fixes = _and(_code(fix) for fix, _ in pattern.ranked_fixes)
        return f"- Run {fixes} before {trigger}: it fails with {error} otherwise ({evidence})."
    if pattern.kind == "fix-between":
        when = "After an in-place edit (`sed -i`), " if pattern.after_edit else ""
        fixes = _and(_fix_step(fix) for fix, _ in pattern.ranked_fixes)
        return f"- {when}{trigger} fails with {error}; what fixed it: {fixes} ({evidence})."
    if pattern.kind == "fix-arguments":
        if pattern.fix:
            return f"- {_code(pattern.wrong or '')} does not exist ({trigger} fails with {error}); it is {_code(pattern.fix)} ({evidence})."
        return f"- {trigger} fails with {error}; leave {_code(pattern.wrong or '')} out ({evidence})."
    if pattern.interpreter:
        return (
            f"- {_code(pattern.interpreter)} is not the project's interpreter: {trigger} fails with {error}; "
            f"use {_code(pattern.fix)} ({evidence})."
        )
    if pattern.missing:
        failing = _listing(pattern.triggers or [pattern.trigger])
        verb = "fails" if len(pattern.triggers) <= 1 else "fail"
        return f"- {_code(pattern.missing)} is not installed here ({failing} {verb}); {_what_worked(pattern)}."
    if len(pattern.ranked_fixes) == 1 or not _alternatives(pattern) and pattern.fix_evidence == pattern.evidence:
        return f"- {trigger} fails with {error}; {_code(pattern.fix)} worked instead ({evidence})."
    return f"- {trigger} fails with {error}; {_what_worked(pattern)}."


def _evidence(pattern: Pattern) -> str:
    """How many sessions showed it, and what it cost them when that is more than a turn each."""
    seen = _sessions(pattern.evidence)
    if pattern.turns > pattern.evidence:
        return f"{seen}, {pattern.turns} turns lost"
    return seen


def _refused(pattern: Pattern) -> str:
    if pattern.tool == "format":
        return "a reply without exactly one ```bash block"
    shown = _listing(pattern.triggers or [pattern.trigger], 2)
    return f"an output that is too long (from {shown})"


def _fix_step(fix: str) -> str:
    if fix == "repair":
        return "repair the file the edit broke (or `git checkout` it and redo the edit)"
    if fix.startswith("edit "):
        return f"edit {_code(fix[5:])}"
    if fix.startswith("create "):
        return f"create {_code(fix[7:])}"
    if fix.startswith("change the script"):
        called = fix.partition(": ")[2]
        return f"change the script ({_and(_code(name) for name in called.split(', '))} added)" if called else fix
    return _code(fix)


def _and(parts) -> str:
    parts = list(parts)
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] if parts else ""


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
        if PERSONAL_PATH.search(line) or _COMMIT_HASH.search(line) or any(
            FORCING.search(fix) for fix, _ in pattern.ranked_fixes if pattern.kind != "harness"
        ):
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
            scope = pattern.scope if pattern.scope == "all" else project_name(pattern.scope)
            written[(scope, line)] = None
    return list(written)


def render_block(lines: list[str]) -> str:
    """The managed block, markers included, ending with a newline; "" when there is nothing to say."""
    if not lines:
        return ""
    return "\n".join([START, _HEADING, "", _INTRO, "", *lines, END]) + "\n"


class BlockError(ValueError):
    """A file whose managed block cannot be found safely: nothing is written to it."""


def find_blocks(text: str, where: str = "the file") -> list[tuple[int, int]]:
    """(first line, last line) of each managed block, 0-based and inclusive.

    A marker counts only as a whole line outside a code fence: the marker quoted in the user's
    prose or in a fenced example is the user's text. A start marker without its end (or an end
    without its start) stops everything, naming the file and line: guessing where the block ends
    could delete what the user wrote after it.
    """
    blocks: list[tuple[int, int]] = []
    fence: str | None = None
    start: int | None = None
    for number, line in enumerate(text.splitlines()):
        stripped = line.strip()
        if fence is None and re.match(r"^(```|~~~)", stripped):
            fence = stripped[:3]
            continue
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            continue
        if stripped == START:
            if start is not None:
                break  # reported below: the first start has no end
            start = number
        elif stripped == END:
            if start is None:
                raise BlockError(f"{where}:{number + 1}: {END} without a {START} before it; nothing was written")
            blocks.append((start, number))
            start = None
    if start is not None:
        raise BlockError(
            f"{where}:{start + 1}: {START} has no {END} after it; add the end marker or remove the start "
            "marker (nothing was written, so no text of yours was lost)"
        )
    return blocks


def apply_block(existing: str | None, block: str, frontmatter: str = "", where: str = "the file") -> str | None:
    """The file's new text with ``block`` in place of the managed block.

    A file without a block gets it appended after one blank line; two blocks become one (in
    place of the first); an empty ``block`` removes the managed block and the blank line put
    before it (and the file, if the block was all it held). The file's line endings are kept.
    None means "no file".
    """
    if existing is None:
        return frontmatter + block if block else None
    newline = "\r\n" if "\r\n" in existing else "\n"
    block = block.replace("\n", newline)
    lines = existing.splitlines(keepends=True)
    blocks = find_blocks(existing, where)
    if not blocks:
        if not block:
            return existing
        if not existing:
            return frontmatter.replace("\n", newline) + block
        ending = "" if existing.endswith(("\n", "\r")) else newline
        return existing + ending + newline + block
    kept: list[str] = []
    previous_end = -1
    for index, (first, last) in enumerate(blocks):
        kept.extend(lines[previous_end + 1 : first])
        at_end = last == len(lines) - 1
        if index == 0 and block:
            kept.append(block)
        elif at_end and kept and not kept[-1].strip() and (index > 0 or not block):
            kept.pop()  # the blank line this block was appended after
        previous_end = last
    kept.extend(lines[previous_end + 1 :])
    updated = "".join(kept)
    if not block:
        if not updated.strip() or (frontmatter and updated.replace(newline, "\n") == frontmatter):
            return None
    return updated


@dataclass(frozen=True)
class FileChange:
    path: Path
    before: str | None
    after: str | None
    warnings: tuple[str, ...] = ()

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
        warnings = ()
        if agent == "cursor" and before is not None and _never_applied(before) and block:
            warnings = (
                f"{path} says alwaysApply: false, so Cursor reads these lessons only when a rule asks "
                "for them; set alwaysApply: true to have them in every chat",
            )
        changes.append(FileChange(path, before, apply_block(before, block, frontmatter, str(path)), warnings))
    return changes


def _never_applied(text: str) -> bool:
    """An .mdc file whose frontmatter turns alwaysApply off."""
    found = re.match(r"^---\r?\n(.*?)\r?\n---", text, re.S)
    return bool(found and re.search(r"^alwaysApply:\s*false\s*$", found.group(1), re.M))
