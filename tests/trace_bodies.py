"""Request bodies rebuilt from the real agent traces in ../shared/data/traces.

The traces hold what agents saw, not the bytes they sent; these builders turn them back into the
request bodies a proxy would have intercepted, one per model call:

- ``claude_code_requests``: Anthropic Messages bodies from a Claude Code transcript (.jsonl).
- ``mini_swe_requests``: OpenAI Chat bodies from a mini-swe-agent trajectory (.traj.json), with
  each bash command as a ``bash`` tool call and its output as the ``tool`` message.
- ``mini_swe_text_requests``: the same trajectory as mini-swe-agent 1.x really sends it: no
  tools, each command in a ```bash block of the assistant's text, its output a user message.

Bodies yielded by one builder share unchanged message objects with each other (a 300-turn session
would otherwise cost gigabytes): treat them as read-only, or ``copy.deepcopy`` one before editing.
To get wire bytes, ``json.dumps(body)``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

__all__ = [
    "shared_data_dir",
    "claude_code_trace_files",
    "mini_swe_trace_files",
    "claude_code_requests",
    "claude_code_turns",
    "mini_swe_requests",
    "mini_swe_text_requests",
    "wire_bodies",
    "session_of",
    "split_by_session",
]

_REPO_ROOT = Path(__file__).resolve().parents[1]
# The first ```bash fence of a reply, the way mini-swe-agent finds its one action.
_BASH_BLOCK = re.compile(r"```bash\s*\n(.*?)\n```", re.DOTALL)
_PLACEHOLDER_ACCOUNT = "00000000-0000-0000-0000-000000000000"

BASH_TOOL = {
    "type": "function",
    "function": {
        "name": "bash",
        "description": "Run one bash command in the repository and return its output.",
        "parameters": {
            "type": "object",
            "properties": {"command": {"type": "string"}},
            "required": ["command"],
        },
    },
}


def shared_data_dir() -> Path | None:
    """``../shared/data`` beside the repository, or None when it is not there."""
    candidate = _REPO_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def wire_bodies(client: str) -> list[str]:
    """The request bodies one real client sent, in order, as text (``../shared/data/wire/CLIENT``;
    empty when the data is absent)."""
    data = shared_data_dir()
    folder = data / "wire" / client if data else None
    if folder is None or not folder.is_dir():
        return []
    return [path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.json"))]


def claude_code_trace_files() -> list[Path]:
    """Every Claude Code transcript, subagents' included (empty when the data is absent)."""
    data = shared_data_dir()
    return sorted((data / "traces" / "claude-code").rglob("*.jsonl")) if data else []


def mini_swe_trace_files() -> list[Path]:
    """Every mini-swe-agent trajectory (empty when the data is absent)."""
    data = shared_data_dir()
    return sorted((data / "traces" / "mini-swe-agent").glob("*.traj.json")) if data else []


def session_of(path: Path) -> str:
    """The session a trace file belongs to: a subagent's transcript belongs to its parent's."""
    if path.parent.name == "subagents":
        return path.parent.parent.name
    return path.name.split(".", 1)[0]


def split_by_session(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """(tuning half, checking half): the sessions in name order, alternately; a session's files
    stay together. Fixed before any tuning, so the checking half is never looked at to tune."""
    sessions = sorted({session_of(path) for path in files})
    tuning = set(sessions[0::2])
    return ([path for path in files if session_of(path) in tuning],
            [path for path in files if session_of(path) not in tuning])


def claude_code_requests(path: str | Path, *, keep_thinking: bool = True) -> Iterator[dict[str, Any]]:
    """One Anthropic Messages body per assistant turn (see ``claude_code_turns``)."""
    for body, _ in claude_code_turns(path, keep_thinking=keep_thinking):
        yield body


def claude_code_turns(path: str | Path, *, keep_thinking: bool = True) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(request body, the transcript's line of the answer) per assistant turn: the line's
    ``message.usage`` is what the provider billed that request, its ``timestamp`` when.

    One Anthropic Messages body per assistant turn, holding every message before that turn.

    How the transcript maps to messages:
    - ``assistant`` lines sharing ``message.id`` are one streamed API message, so their content
      blocks are joined, even when tool results were logged between them (Claude Code runs a
      tool as soon as its block is complete); those results go to the user message after it;
    - consecutive ``user`` lines (parallel tool results, hook reminders) are joined into one user
      message, as the API wants all results of one turn together; string content becomes a text
      block;
    - ``progress``, ``file-history-snapshot``, ``queue-operation`` and other ``system`` lines are
      not part of the conversation and are skipped;
    - a ``compact_boundary`` starts the conversation over: after compaction the client sends
      only the summary and what follows it;
    - assistant messages the client made up itself (model ``<synthetic>``) are kept as context
      but never yield a request.

    Thinking blocks keep their signatures (as Claude Code sends them) unless ``keep_thinking``
    is False, which drops thinking blocks altogether. The system prompt is not in transcripts;
    a one-line stand-in carries the session's working directory the way Claude Code states it.
    ``metadata.user_id`` follows Claude Code's ``user_<hash>_account_<uuid>_session_<uuid>``.
    """
    messages: list[dict[str, Any]] = []
    assistant_id: str | None = None  # message.id of the latest assistant message
    assistant_at = -1  # its index in messages
    for record in _jsonl_records(Path(path)):
        kind = record.get("type")
        if kind == "system" and record.get("subtype") == "compact_boundary":
            messages, assistant_id, assistant_at = [], None, -1
            continue
        message = record.get("message")
        if kind not in ("user", "assistant") or not isinstance(message, dict):
            continue
        blocks = _content_blocks(message.get("content"), keep_thinking)
        if kind == "assistant":
            message_id = message.get("id")
            if message_id is not None and message_id == assistant_id:
                # the same streamed response: Claude Code runs a tool as soon as its block ends
                # and logs the result before the response's next block
                messages[assistant_at]["content"].extend(blocks)
                continue
            model = message.get("model") or ""
            if messages and messages[-1]["role"] == "user" and model != "<synthetic>":
                yield _anthropic_body(record, model, list(messages)), record
            messages.append({"role": "assistant", "content": blocks})
            assistant_id, assistant_at = message_id, len(messages) - 1
        else:
            if messages and messages[-1]["role"] == "user":
                messages[-1]["content"].extend(blocks)
            else:
                messages.append({"role": "user", "content": blocks})
            if not all(block.get("type") == "tool_result" for block in blocks):
                assistant_id = None  # a person or a hook spoke: the next response is a new one


def _jsonl_records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            if isinstance(record, dict):
                yield record


def _content_blocks(content: Any, keep_thinking: bool) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        return []
    return [
        block for block in content
        if isinstance(block, dict)
        and (keep_thinking or block.get("type") not in ("thinking", "redacted_thinking"))
    ]


def _anthropic_body(record: dict[str, Any], model: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    session = record.get("sessionId") or ""
    return {
        "model": model,
        "max_tokens": 32000,
        "system": [{"type": "text", "text": f"Working directory: {record.get('cwd') or '/'}"}],
        "messages": messages,
        "metadata": {"user_id": f"user_{'0' * 64}_account_{_PLACEHOLDER_ACCOUNT}_session_{session}"},
        "stream": True,
    }


def mini_swe_requests(path: str | Path) -> Iterator[dict[str, Any]]:
    """One OpenAI Chat body per assistant turn, holding every message before that turn.

    An assistant reply with exactly one ```bash block (the only kind mini-swe-agent executes)
    gets one ``bash`` tool call, id ``call_<index of the reply>``, arguments
    ``{"command": <the block>}``, and keeps its THOUGHT text as content without the block: an
    agent with tool calls sends its command once, not in its text as well. The user message
    after it (``<returncode>N</returncode>
    <output>..</output>``, a timeout notice, or the final submission) becomes the ``tool``
    message answering it. Replies with no or several blocks were rejected by the agent with a
    format error: they stay plain assistant messages and the error stays a user message.
    """
    trajectory = json.loads(Path(path).read_text(encoding="utf-8"))
    model = _mini_swe_model(trajectory)
    messages: list[dict[str, Any]] = []
    pending_call: str | None = None
    for index, message in enumerate(trajectory.get("messages") or []):
        role, content = message.get("role"), message.get("content")
        if not isinstance(content, str):
            content = json.dumps(content) if content is not None else ""
        if role == "assistant":
            yield {"model": model, "messages": list(messages), "tools": [BASH_TOOL]}
            blocks = list(_BASH_BLOCK.finditer(content))
            if len(blocks) == 1:
                pending_call = f"call_{index}"
                block = blocks[0]
                messages.append({
                    "role": "assistant",
                    "content": (content[:block.start()] + content[block.end():]).strip(),
                    "tool_calls": [{
                        "id": pending_call,
                        "type": "function",
                        "function": {"name": "bash", "arguments": json.dumps({"command": block[1]})},
                    }],
                })
            else:
                pending_call = None
                messages.append({"role": "assistant", "content": content})
        elif role == "user" and pending_call is not None:
            messages.append({"role": "tool", "tool_call_id": pending_call, "content": content})
            pending_call = None
        else:
            messages.append({"role": role or "user", "content": content})


def mini_swe_text_requests(path: str | Path) -> Iterator[dict[str, Any]]:
    """One OpenAI Chat body per assistant turn, holding every message before it, as the
    trajectory shows them: the system prompt, the task, each reply with its ```bash block and
    each output (``<returncode>N</returncode>\n<output>..``, a timeout notice, a format error) as
    the user message after it. No tool is declared: mini-swe-agent 1.x parses its own action."""
    trajectory = json.loads(Path(path).read_text(encoding="utf-8"))
    model = _mini_swe_model(trajectory)
    messages: list[dict[str, Any]] = []
    for message in trajectory.get("messages") or []:
        role, content = message.get("role") or "user", message.get("content")
        if not isinstance(content, str):
            content = json.dumps(content) if content is not None else ""
        if role == "assistant":
            yield {"model": model, "messages": list(messages)}
        messages.append({"role": role, "content": content})


def _mini_swe_model(trajectory: dict[str, Any]) -> str:
    config = (trajectory.get("info") or {}).get("config") or {}
    return ((config.get("model") or {}).get("model_name")) or ""
