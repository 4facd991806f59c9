"""A provider's prompt cache in miniature, for crafted sessions: it bills a request as Anthropic
does with a breakpoint on the last message. The longest start of the body (tools, system, then
message by message) that the previous request left cached is read, the rest written; an entry
older than its lifetime, or one the test evicts, is gone."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from headroom_mitm.addon.tokens import count_tokens


def _parts(body: dict[str, Any]) -> list[tuple[str, int]]:
    parts = [body[key] for key in ("tools", "system") if key in body] + list(body["messages"])
    out = []
    for part in parts:
        text = json.dumps(part, sort_keys=True)
        # cache_control marks where to cache, it is not part of what is cached
        text = text.replace(', "cache_control": {"type": "ephemeral"}', "")
        out.append((hashlib.sha256(text.encode()).hexdigest(), max(1, count_tokens(text))))
    return out


class PrefixCache:
    def __init__(self, lifetime_s: float = 300.0) -> None:
        self.lifetime_s = lifetime_s
        self._cached: list[str] = []
        self._at: datetime | None = None

    def evict(self) -> None:
        self._cached = []

    def bill(self, sent: bytes | str, at: datetime) -> dict[str, int]:
        parts = _parts(json.loads(sent))
        alive = self._at is not None and (at - self._at).total_seconds() <= self.lifetime_s
        read = 0
        if alive:
            for (digest, tokens), cached in zip(parts, self._cached):
                if digest != cached:
                    break
                read += tokens
        total = sum(tokens for _, tokens in parts)
        self._cached, self._at = [digest for digest, _ in parts], at
        return {"input_tokens": 0, "cache_read_input_tokens": read,
                "cache_creation_input_tokens": total - read, "output_tokens": 10}
