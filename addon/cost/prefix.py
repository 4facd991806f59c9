"""A request body as the provider's prompt cache sees it: its head (tools, system prompt) and
its conversation, one digest per part, so two requests can be compared part by part.

Each part has two digests: of its bytes, and of its bytes without ``cache_control`` markers
(moving a breakpoint changes the bytes, not what is cached). The digests of the body as sent
differ from the client's only where the proxy rewrote a tool output.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Part", "Prefix", "conversation_of", "first_new_turn", "message_part", "prefix_of"]

_CACHE_CONTROL = re.compile(r',?\s*"cache_control"\s*:\s*\{[^{}]*\}')
_HEAD_KEYS = (("tools", "tools"), ("system", "system prompt"), ("instructions", "system prompt"),
              ("systemInstruction", "system prompt"), ("system_instruction", "system prompt"))
_CONVERSATION_KEYS = ("messages", "input", "contents")
_ANSWER_ROLES = frozenset({"assistant", "model"})
_ANSWER_TYPES = frozenset({"function_call", "reasoning", "custom_tool_call", "local_shell_call"})


@dataclass(frozen=True)
class Part:
    label: str
    raw: str
    content: str
    """Digest without cache_control markers."""


@dataclass(frozen=True)
class Prefix:
    head: tuple[Part, ...]
    messages: tuple[Part, ...]
    sent: tuple[str, ...]
    """Per message, the digest of what went upstream (differs where an output was rewritten)."""
    one_hour: bool
    """A cache_control of the body asks for the 1-hour lifetime."""


def _body(doc: Any) -> dict[str, Any]:
    if isinstance(doc, dict) and isinstance(doc.get("response"), dict) and "input" not in doc:
        return doc["response"]  # a response.create message of the Responses socket
    return doc if isinstance(doc, dict) else {}


def conversation_of(doc: Any) -> list[Any]:
    body = _body(doc)
    for key in _CONVERSATION_KEYS:
        items = body.get(key)
        if isinstance(items, list):
            return items
    return []


def first_new_turn(doc: Any) -> int:
    """Index of the first conversation item after the model's last answer: what this request
    sends for the first time (the tool outputs of the step the model just asked for)."""
    items = conversation_of(doc)
    for index in range(len(items) - 1, -1, -1):
        item = items[index]
        if isinstance(item, dict) and (item.get("role") in _ANSWER_ROLES or item.get("type") in _ANSWER_TYPES):
            return index + 1
    return 0


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _part(label: str, value: Any) -> Part:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    stripped = _CACHE_CONTROL.sub("", text) if '"cache_control"' in text else text
    return Part(label, _digest(text), _digest(stripped))


def message_part(index: int, item: Any) -> Part:
    """The part of conversation item ``index``: the same for the same item in every request."""
    return _part(f"message {index}", item)


def prefix_of(doc: Any, rewritten: dict[int, Iterable[str]] | None = None,
              messages: Iterable[Part] | None = None) -> Prefix:
    """``rewritten``: conversation index -> the new texts the proxy wrote into that item.
    ``messages``: each item's ``message_part``, when the caller has them already."""
    body = _body(doc)
    head = tuple(_part(label, body[key]) for key, label in _HEAD_KEYS if key in body)
    messages = tuple(messages) if messages is not None else tuple(
        message_part(index, item) for index, item in enumerate(conversation_of(doc)))
    rewritten = rewritten or {}
    sent = tuple(_digest(part.raw + "\n" + "\n".join(rewritten[index])) if index in rewritten else part.raw
                 for index, part in enumerate(messages))
    one_hour = '"ttl":"1h"' in json.dumps(body.get("system"), separators=(",", ":")) or any(
        '"ttl":"1h"' in json.dumps(item, separators=(",", ":")) for item in conversation_of(doc)[-3:])
    return Prefix(head, messages, sent, one_hour)
