"""Claude Code transcripts: ``~/.claude/projects/<project>/<session>.jsonl``.

Each line is one event. Assistant lines carry ``tool_use`` blocks (id, name, input); user lines
carry ``tool_result`` blocks (tool_use_id, content, is_error). Every line has ``sessionId``, ``cwd``
and ``timestamp``. Subagent transcripts (``<session>/subagents/agent-*.jsonl``) have the same
shape and the parent's ``sessionId``; the proxy sees their requests under that session too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from headroom_mitm.learn.importers._common import content_text, json_lines, parse_time
from headroom_mitm.learn.records import CallRecord


def read(path: Path) -> Iterator[CallRecord]:
    """The tool calls of one transcript, in the order their results arrived."""
    pending: dict[str, dict] = {}
    position = 0
    for event in json_lines(path):
        message = event.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("content"), list):
            continue
        for block in message["content"]:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_use" and block.get("id"):
                pending[block["id"]] = {"name": block.get("name", ""), "input": block.get("input")}
            elif block.get("type") == "tool_result" and block.get("tool_use_id") in pending:
                use = pending.pop(block["tool_use_id"])
                yield CallRecord(
                    session_id=str(event.get("sessionId") or path.stem),
                    project=event.get("cwd"),
                    call_id=block["tool_use_id"],
                    tool=use["name"],
                    arguments=use["input"],
                    output=content_text(block.get("content")),
                    is_error=bool(block.get("is_error")),
                    position=position,
                    seen_at=parse_time(event.get("timestamp")),
                    provider="anthropic",
                )
                position += 1
