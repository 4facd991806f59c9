"""Read agent transcripts into :class:`learn.records.CallRecord` rows.

One module per agent; :func:`iter_transcripts` finds the files under the paths a user gives and
picks the reader by file shape, so ``headroom import ~/.claude/projects ~/.codex/sessions`` works.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from headroom_mitm.learn.importers import claude_code, codex, mini_swe_agent, swe_agent
from headroom_mitm.learn.records import CallRecord

logger = logging.getLogger(__name__)

__all__ = ["TranscriptError", "iter_transcripts", "detect_agent", "READERS"]

Reader = Callable[[Path], Iterator[CallRecord]]

READERS: dict[str, Reader] = {
    "claude-code": claude_code.read,
    "codex": codex.read,
    "mini-swe-agent": mini_swe_agent.read,
    "swe-agent": swe_agent.read,
}


class TranscriptError(ValueError):
    """A file that is not a transcript this project can read."""


def detect_agent(path: Path) -> str | None:
    """Which agent wrote ``path``, from its name and first line; None when it is not a transcript."""
    name = path.name
    if name.endswith(".traj.json"):
        return "mini-swe-agent"
    if name.endswith(".traj"):
        return "swe-agent"
    if not name.endswith(".jsonl"):
        return None
    if name.startswith("rollout-"):
        return "codex"
    head = _first_line(path)
    if '"type":"session_meta"' in head.replace(" ", "") or '"payload"' in head:
        return "codex"
    if '"sessionId"' in head or '"type"' in head:
        return "claude-code"
    return None


def _first_line(path: Path) -> str:
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.strip():
                    return line[:4096]
    except OSError:
        return ""
    return ""


def find_transcripts(paths: Iterable[str | Path]) -> Iterator[tuple[str, Path]]:
    """(agent, file) for every transcript under ``paths`` (files or directories, recursive)."""
    for given in paths:
        root = Path(given).expanduser()
        if not root.exists():
            raise TranscriptError(f"{root}: no such file or directory")
        candidates = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for candidate in candidates:
            agent = detect_agent(candidate)
            if agent:
                yield agent, candidate
            elif root.is_file():
                raise TranscriptError(
                    f"{candidate}: not a Claude Code, Codex, mini-swe-agent or SWE-agent transcript"
                )


def iter_transcripts(paths: Iterable[str | Path]) -> Iterator[tuple[str, Path, list[CallRecord]]]:
    """(agent, file, calls) for every transcript under ``paths``; unreadable files are skipped
    with a warning so one bad file does not lose the others."""
    for agent, path in find_transcripts(paths):
        try:
            calls = list(READERS[agent](path))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("skipping %s: %s", path, exc)
            continue
        yield agent, path, calls
