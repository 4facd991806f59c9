"""mini-swe-agent trajectories: ``<instance>.traj.json``.

``messages`` alternate: an assistant message holding one fenced ``bash`` block, then a user
message ``<returncode>N</returncode><output>...</output>`` with its result. The working
directory is ``info.config.environment.cwd``, but every SWE-bench run works in ``/testbed``
whatever the repository: the project of a run whose instance id names a repository
(``sympy__sympy-24562``) is that repository (``sympy/sympy``).

The harness's own rejections are failed calls too: a reply without exactly one bash block
("Please always provide EXACTLY ONE action ...") is imported as a failed ``reply`` call, a
command the harness killed ("The last command <command>X</command> timed out ...") as a failed
call of that command with no exit code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from headroom_mitm.learn.harness import REPLY_TOOL, rejection_of
from headroom_mitm.learn.importers._common import content_text, parse_time, stable_session_id
from headroom_mitm.learn.projects import swe_bench_repository
from headroom_mitm.learn.records import CallRecord

_BASH_BLOCK = re.compile(r"```bash\s*\n(.*?)\n?```", re.S)
_RETURN_CODE = re.compile(r"^\s*<returncode>(-?\d+)</returncode>")
_TIMED_OUT = re.compile(r"^\s*The last command <command>.*?</command> timed out", re.S)


def read(path: Path) -> Iterator[CallRecord]:
    data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    messages = data.get("messages") or []
    info = data.get("info") or {}
    environment = (info.get("config") or {}).get("environment") or {}
    instance = data.get("instance_id") or path.name.removesuffix(".traj.json")
    session_id = stable_session_id(
        f"mini-swe-agent:{instance}", [content_text(m.get("content")) for m in messages[:3]]
    )
    project = swe_bench_repository(str(instance)) or environment.get("cwd") or "/testbed"
    position = 0
    for index in range(1, len(messages)):
        result = messages[index]
        asked = messages[index - 1]
        if result.get("role") != "user" or asked.get("role") != "assistant":
            continue
        output = content_text(result.get("content"))
        code = _RETURN_CODE.match(output)
        blocks = _BASH_BLOCK.findall(content_text(asked.get("content")))
        created = ((asked.get("extra") or {}).get("response") or {}).get("created")
        if code and len(blocks) == 1:
            exit_code: int | None = int(code.group(1))
            tool, arguments, failed = "bash", {"command": blocks[0].strip()}, exit_code != 0
        elif len(blocks) == 1 and _TIMED_OUT.match(output):
            exit_code, tool, arguments, failed = None, "bash", {"command": blocks[0].strip()}, True
        elif not code and rejection_of(output) is not None:
            exit_code, tool, arguments, failed = None, REPLY_TOOL, {"actions": len(blocks)}, True
        else:
            continue  # the task itself, or the final submission
        yield CallRecord(
            session_id=session_id,
            project=project,
            call_id="",
            tool=tool,
            arguments=arguments,
            output=output,
            is_error=failed,
            exit_code=exit_code,
            position=position,
            seen_at=parse_time(created),
        )
        position += 1
