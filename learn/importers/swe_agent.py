"""SWE-agent trajectories: ``<instance>.traj``.

``trajectory`` is a list of steps with ``action`` (a shell command or one of SWE-agent's own
commands such as ``edit 12:14`` or ``open file``) and ``observation`` (its output). Exit codes
are not recorded; a rejected edit says "Your proposed edit has introduced new syntax error(s)".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from headroom_mitm.learn.importers._common import stable_session_id
from headroom_mitm.learn.records import CallRecord

# SWE-agent's own commands; anything else is run by its shell
_AGENT_COMMANDS = {
    "open", "goto", "scroll_up", "scroll_down", "create", "edit", "insert", "search_dir",
    "search_file", "find_file", "submit", "str_replace_editor", "filemap", "view_image",
}
_REJECTED = ("Your proposed edit has introduced new syntax error", "The edit was not applied")
_CURRENT_DIRECTORY = re.compile(r"\(Current directory: ([^)\n]+)\)")


def read(path: Path) -> Iterator[CallRecord]:
    data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    steps = data.get("trajectory") or []
    instance = path.name.removesuffix(".traj")
    session_id = stable_session_id(f"swe-agent:{instance}", [s.get("action") for s in steps[:3]])
    project = None
    for message in reversed(data.get("history") or []):
        # the last one: earlier messages may be a demonstration from another repository
        found = _CURRENT_DIRECTORY.search(str(message.get("content") or ""))
        if found:
            project = found.group(1).strip()
            break
    for position, step in enumerate(steps):
        action = (step.get("action") or "").strip()
        if not action:
            continue
        first_word = action.split(None, 1)[0]
        tool = first_word if first_word in _AGENT_COMMANDS else "bash"
        output = step.get("observation") or ""
        yield CallRecord(
            session_id=session_id,
            project=project,
            call_id="",
            tool=tool,
            arguments={"command": action},
            output=output,
            is_error=any(marker in output for marker in _REJECTED),
            position=position,
        )
