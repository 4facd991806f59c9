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


def fallback_session_id(doc: Any) -> str:
    """A stable id for a conversation whose body names no session.

    Every request of a conversation resends its first turn unchanged, so the first turn plus the
    system prompt identify the conversation across requests, without storing either.
    """
    items = turns(doc)
    first = items[0] if items else None
    system = doc.get("system") or doc.get("instructions") if isinstance(doc, dict) else None
    seed = json.dumps([system, first], sort_keys=True, ensure_ascii=False, default=str)
    return "conv-" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:24]


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
