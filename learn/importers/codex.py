"""Codex CLI rollouts: ``~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl``.

Lines are ``{"timestamp", "type", "payload"}``. ``session_meta`` carries the session ``id`` and
``cwd``; ``response_item`` payloads of type ``function_call`` (name, arguments as a JSON string,
call_id), ``custom_tool_call`` (name, input, call_id) and ``local_shell_call`` (action.command)
are calls; ``function_call_output`` / ``custom_tool_call_output`` / ``local_shell_call_output``
carry the output, older versions as a JSON string ``{"output": ..., "metadata": {"exit_code": N}}``,
newer ones as text starting "Exit code: N" or "Process exited with code N".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from headroom_mitm.learn.importers._common import content_text, json_lines, parse_time
from headroom_mitm.learn.records import CallRecord

_CALLS = {"function_call", "custom_tool_call", "local_shell_call"}
_OUTPUTS = {"function_call_output", "custom_tool_call_output", "local_shell_call_output"}


def exit_code_from_metadata(output: str) -> int | None:
    """The exit code older Codex versions put in a JSON output's metadata."""
    if not output.startswith("{"):
        return None
    try:
        metadata = json.loads(output).get("metadata") or {}
        code = metadata.get("exit_code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


def _arguments(payload: dict) -> tuple[str, Any]:
    kind = payload.get("type")
    if kind == "local_shell_call":
        return "local_shell", payload.get("action")
    if kind == "custom_tool_call":
        return payload.get("name", ""), payload.get("input")
    raw = payload.get("arguments")
    try:
        return payload.get("name", ""), json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return payload.get("name", ""), raw


def read(path: Path) -> Iterator[CallRecord]:
    """The tool calls of one rollout, in the order their outputs arrived."""
    session_id = path.stem
    project: str | None = None
    pending: dict[str, tuple[str, Any]] = {}
    position = 0
    for line in json_lines(path):
        payload = line.get("payload")
        if not isinstance(payload, dict):
            continue
        if line.get("type") == "session_meta":
            session_id = str(payload.get("id") or session_id)
            project = payload.get("cwd") or project
            continue
        if line.get("type") == "turn_context" and payload.get("cwd"):
            project = payload["cwd"]
            continue
        if line.get("type") != "response_item":
            continue
        kind = payload.get("type")
        call_id = payload.get("call_id") or payload.get("id")
        if kind in _CALLS and call_id:
            pending[call_id] = _arguments(payload)
        elif kind in _OUTPUTS and call_id in pending:
            name, arguments = pending.pop(call_id)
            output = content_text(payload.get("output"))
            exit_code = exit_code_from_metadata(output)
            yield CallRecord(
                session_id=session_id,
                project=project,
                call_id=call_id,
                tool=name,
                arguments=arguments,
                output=output,
                is_error=bool(exit_code),
                exit_code=exit_code,
                position=position,
                seen_at=parse_time(line.get("timestamp")),
                provider="openai-responses",
            )
            position += 1
