"""mini-swe-agent trajectories: ``<instance>.traj.json``.

``messages`` alternate: an assistant message holding one fenced ``bash`` block, then a user
message ``<returncode>N</returncode><output>...</output>`` with its result. The working
directory is ``info.config.environment.cwd``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from headroom_mitm.learn.importers._common import content_text, parse_time, stable_session_id
from headroom_mitm.learn.records import CallRecord

_BASH_BLOCK = re.compile(r"```bash\s*\n(.*?)\n?```", re.S)
_RETURN_CODE = re.compile(r"^\s*<returncode>(-?\d+)</returncode>")


def read(path: Path) -> Iterator[CallRecord]:
    data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    messages = data.get("messages") or []
    info = data.get("info") or {}
    environment = (info.get("config") or {}).get("environment") or {}
    instance = data.get("instance_id") or path.name.removesuffix(".traj.json")
    session_id = stable_session_id(
        f"mini-swe-agent:{instance}", [content_text(m.get("content")) for m in messages[:3]]
    )
    project = environment.get("cwd") or "/testbed"
    position = 0
    for index in range(1, len(messages)):
        result = messages[index]
        asked = messages[index - 1]
        if result.get("role") != "user" or asked.get("role") != "assistant":
            continue
        output = content_text(result.get("content"))
        code = _RETURN_CODE.match(output)
        blocks = _BASH_BLOCK.findall(content_text(asked.get("content")))
        if not code or len(blocks) != 1:
            continue  # a format complaint from the harness, not a command result
        exit_code = int(code.group(1))
        created = ((asked.get("extra") or {}).get("response") or {}).get("created")
        yield CallRecord(
            session_id=session_id,
            project=project,
            call_id="",
            tool="bash",
            arguments={"command": blocks[0].strip()},
            output=output,
            is_error=exit_code != 0,
            exit_code=exit_code,
            position=position,
            seen_at=parse_time(created),
        )
        position += 1
