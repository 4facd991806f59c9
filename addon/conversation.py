"""Facts about a request body that no single wire format owns: its turns, session and size."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

# Where each wire format keeps its turns, and the fields that set the scene before them.
_TURN_KEYS = ("messages", "input", "contents")
_PREAMBLE_KEYS = ("system", "instructions", "systemInstruction", "system_instruction", "tools")


def turns(doc: Any) -> list[Any]:
    """The list of messages / input items / contents, or [] for a body without one."""
    if isinstance(doc, dict):
        for key in _TURN_KEYS:
            value = doc.get(key)
            if isinstance(value, list):
                return value
    return []


def preamble(doc: Any) -> list[Any]:
    """Everything sent ahead of the turns (system prompt, instructions, tool definitions)."""
    if not isinstance(doc, dict):
        return []
    return [doc[key] for key in _PREAMBLE_KEYS if key in doc]


def fallback_session_id(doc: Any, provider: str = "") -> str:
    """A stable id for a conversation whose body names no session.

    Seeded by what every request of one conversation repeats unchanged and two conversations
    rarely share: the wire format, the system prompt (a top-level field or the leading system
    and developer messages) and every turn before the first reply (the task, and the context
    some agents send ahead of it: Gemini CLI's session context, aider's repository map). Their
    texts only: what clients change between requests is left out, such as ``cache_control``
    (litellm marks the first message in the first request only) and whether a text is a string
    or a one-block list. Nothing of it is stored.
    """
    items = turns(doc)
    opening: list[Any] = []
    for item in items:
        if isinstance(item, dict) and (item.get("role") in _REPLY_ROLES or item.get("type") in _CALL_ITEMS):
            break
        opening.append(item)
    system = [doc[key] for key in _SYSTEM_KEYS if key in doc] if isinstance(doc, dict) else []
    seed = json.dumps([provider, _texts(system), _texts(opening)], ensure_ascii=False)
    return "conv-" + hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:24]


_SYSTEM_KEYS = ("system", "instructions", "systemInstruction", "system_instruction")
_REPLY_ROLES = frozenset({"assistant", "model"})
_CALL_ITEMS = frozenset({"function_call", "custom_tool_call", "local_shell_call", "shell_call", "mcp_call"})
_NOT_CONTENT = frozenset({"type", "cache_control", "id"})
"""Keys whose values say how a text is carried, not what it says."""


def _texts(value: Any) -> list[str]:
    """The string leaves of a value that carry what the model reads, in order; roles kept."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(v for k, v in reversed(item.items()) if k not in _NOT_CONTENT)
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


# Strings under these keys are opaque blobs (images, signed thinking), not text a model reads
# as tokens the way the rest is: counting them would drown every other figure.
_OPAQUE_KEYS = frozenset({"data", "signature", "encrypted_content", "image_url", "inline_data", "inlineData"})


def visible_text(value: Any) -> str:
    """The text a model reads from a piece of a body: its string leaves, one per line."""
    parts: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, dict):
            stack.extend(v for k, v in reversed(item.items()) if k not in _OPAQUE_KEYS)
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return "\n".join(parts)


def body_tokens(doc: Any, count_tokens: Callable[[str], int]) -> int:
    """Tokens of a body's text, counted turn by turn.

    A conversation resends its earlier turns on every request; counting each turn on its own lets
    the token counter's memo answer for all but the newest ones.
    """
    if not isinstance(doc, dict):
        return count_tokens(visible_text(doc))
    pieces = preamble(doc) + turns(doc)
    return sum(count_tokens(visible_text(piece)) for piece in pieces)
