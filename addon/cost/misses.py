"""Why the provider's prompt cache missed: for a request that wrote (or paid full price for)
input an earlier request of the same conversation had cached, the cause.

    client    the client changed bytes before the cached point: the system prompt, the tools,
              a message, or a moved ``cache_control`` breakpoint (``where`` says which)
    proxy     the proxy changed them (token mode's checkpoints; never in cache mode)
    expired   the bytes were the same, but more time than the cache's lifetime had passed
    evicted   the bytes were the same and the gap inside the lifetime: the provider dropped it

The earlier request is the one of the same session and model whose conversation shares the
longest start with this one, among the last few this proxy saw (a restart forgets them).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from headroom_mitm.addon.cost.prefix import Part, Prefix

__all__ = ["CacheMiss", "CacheWatch", "Seen", "MIN_MISSED_TOKENS"]

MIN_MISSED_TOKENS = 1024
"""Providers cache in blocks of at least this many tokens: a smaller shortfall is no miss."""
FIVE_MINUTES = 300.0
ONE_HOUR = 3600.0
_PER_SESSION = 8
_SESSIONS = 2048


@dataclass(frozen=True)
class Seen:
    """What one request left in the cache, as far as its answer said."""

    at: datetime
    prefix: Prefix
    cached: int
    """Provider tokens of the prompt the cache holds after it: reads + writes (Anthropic), or the
    whole prompt where the provider caches by itself (OpenAI, Gemini)."""
    lifetime_s: float


@dataclass(frozen=True)
class CacheMiss:
    cause: str
    where: str | None
    tokens: int
    """Tokens the earlier request left cached that this one did not read."""


class CacheWatch:
    """Remembers the last requests of each conversation and judges the next one."""

    def __init__(self) -> None:
        self._sessions: OrderedDict[tuple[str, str], list[Seen]] = OrderedDict()

    def judge(self, session: str, model: str, seen: Seen, cache_read: int,
              wrote_fresh: bool) -> CacheMiss | None:
        """Records ``seen`` and returns the miss it shows, if any. ``wrote_fresh``: the request
        paid for input the cache did not serve (a cache write, or uncached input)."""
        key = (session, model)
        earlier = self._sessions.get(key, [])
        previous = _closest(earlier, seen.prefix)
        history = [s for s in earlier if s is not previous] + [seen]
        self._sessions[key] = history[-_PER_SESSION:]
        self._sessions.move_to_end(key)
        while len(self._sessions) > _SESSIONS:
            self._sessions.popitem(last=False)
        if previous is None or not wrote_fresh:
            return None
        lost = previous.cached - cache_read
        if lost < MIN_MISSED_TOKENS:
            return None
        return CacheMiss(*_cause(previous, seen), tokens=lost)


def _common(a: tuple[Part, ...], b: tuple[Part, ...]) -> int:
    count = 0
    for x, y in zip(a, b):
        if x.content != y.content:
            break
        count += 1
    return count


def _closest(earlier: list[Seen], prefix: Prefix) -> Seen | None:
    best, best_common = None, -1
    for candidate in earlier:  # oldest first: a tie goes to the newest
        common = _common(candidate.prefix.messages, prefix.messages)
        if common >= best_common:
            best, best_common = candidate, common
    return best


def _cause(previous: Seen, seen: Seen) -> tuple[str, str | None]:
    before, now = previous.prefix, seen.prefix
    for old, new in zip(before.head, now.head):
        if old.label != new.label or old.content != new.content:
            return "client", f"{new.label} changed"
    if len(before.head) != len(now.head):
        return "client", "tools or system prompt added or removed"
    cached_messages = len(before.messages)
    for index in range(cached_messages):
        if index >= len(now.messages):
            return "client", f"conversation cut at message {index}"
        if before.messages[index].content != now.messages[index].content:
            return "client", f"message {index} changed"
    for index in range(cached_messages):
        if before.sent[index] != now.sent[index]:
            return "proxy", f"message {index} rewritten"
    # a breakpoint moving along the conversation is how clients cache; in the head it is not
    for old, new in zip(before.head, now.head):
        if old.raw != new.raw:
            return "client", f"cache_control breakpoint moved ({new.label})"
    gap = (seen.at - previous.at).total_seconds()
    if gap > previous.lifetime_s:
        return "expired", f"{gap:.0f}s after the previous request (lifetime {previous.lifetime_s:.0f}s)"
    return "evicted", f"{gap:.0f}s after the previous request, inside the {previous.lifetime_s:.0f}s lifetime"
