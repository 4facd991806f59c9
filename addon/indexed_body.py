"""A request body parsed with the place of each turn, so that the next request of the conversation
parses only what follows the turns it repeats.

A conversation resends every earlier turn byte for byte; ``parse_indexed`` reads a body's top
level and its turns list one value at a time (with the C scanner ``json.loads`` uses) and notes
where each turn ends; ``parse_continuing`` takes an earlier body's parse and the length of the
text both bodies share, keeps the turns inside that prefix as they were parsed (the same
objects), and scans only the rest. The result equals ``json.loads(text)``: top-level pairs are
gathered in order and made a dict the way the decoder does (a repeated key keeps its first
place and its last value). Anything unusual (no turns list, a turns key twice, a turn that is
not an object) answers None, and the caller parses the whole text as usual.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass
from json.decoder import scanstring
from typing import Any

__all__ = ["IndexedBody", "parse_indexed", "parse_continuing", "shared_prefix"]

TURN_KEYS = ("messages", "input", "contents")
"""Where the wire formats keep their turns (``addon/conversation.py`` reads them in this order)."""

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_CHUNK = 1 << 16


@dataclass(frozen=True)
class IndexedBody:
    text: str
    doc: dict[str, Any]
    key: str
    """The top-level key of the turns list."""
    before: tuple[tuple[str, Any], ...]
    """The top-level pairs ahead of the turns list, in order."""
    turns_open: int
    """Offset just after the turns list's ``[``."""
    turn_starts: tuple[int, ...]
    """Offset of each turn's value (its ``{``)."""
    turn_ends: tuple[int, ...]
    """Offset just after each turn's value."""
    after: tuple[tuple[str, Any, int, int], ...]
    """The top-level pairs after the turns list: (key, value, start, end of the value's text)."""

    @property
    def turns(self) -> list[Any]:
        return self.doc[self.key]


def shared_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix of ``a`` and ``b`` (compared a chunk at a time)."""
    limit = min(len(a), len(b))
    start = 0
    while start < limit:
        end = min(limit, start + _CHUNK)
        if a[start:end] != b[start:end]:
            low, high = start, end  # the first difference is in [low, high)
            while high - low > 1:
                middle = (low + high) // 2
                if a[low:middle] == b[low:middle]:
                    low = middle
                else:
                    high = middle
            return low
        start = end
    return limit


def parse_indexed(text: str) -> IndexedBody | None:
    """``json.loads(text)`` with the turns' places, or None (see the module's docstring)."""
    try:
        idx = _skip(text, 0)
        if text[idx] != "{":
            return None
        pairs: list[tuple[str, Any]] = []
        idx = _skip(text, idx + 1)
        if text[idx] == "}":
            return None
        while True:
            key, idx = _key(text, idx)
            if key in TURN_KEYS and _skip(text, idx) < len(text) and text[_skip(text, idx)] == "[":
                open_at = _skip(text, idx) + 1
                turns, starts, ends, idx = _turns(text, open_at, [], [], [])
                return _finish(text, tuple(pairs), key, open_at, turns, starts, ends, idx)
            value, idx = _DECODER.raw_decode(text, _skip(text, idx))
            pairs.append((key, value))
            idx = _skip(text, idx)
            if text[idx] == "}":
                return None  # no turns list
            if text[idx] != ",":
                return None
            idx = _skip(text, idx + 1)
    except (IndexError, ValueError):
        return None


def parse_continuing(text: str, earlier: IndexedBody, shared: int) -> tuple[IndexedBody, int] | None:
    """(the parse of ``text``, how many of ``earlier``'s turns it kept) when ``text`` and
    ``earlier.text`` share their first ``shared`` characters; None when that prefix does not
    reach into the turns list."""
    if shared < earlier.turns_open:
        return None
    kept = bisect_right(earlier.turn_ends, shared)
    resume_at = earlier.turn_ends[kept - 1] if kept else earlier.turns_open
    try:
        turns, starts, ends, idx = _turns(text, resume_at, list(earlier.turns[:kept]),
                                          list(earlier.turn_starts[:kept]), list(earlier.turn_ends[:kept]),
                                          first=kept == 0)
        parsed = _finish(text, earlier.before, earlier.key, earlier.turns_open, turns, starts, ends, idx)
    except (IndexError, ValueError):
        return None
    return (parsed, kept) if parsed is not None else None


def _turns(text: str, idx: int, turns: list[Any], starts: list[int], ends: list[int], first: bool = True
           ) -> tuple[list[Any], list[int], list[int], int]:
    """Scan turns from ``idx`` (just after ``[``, or after a turn's value) to the list's ``]``;
    returns the offset after it."""
    idx = _skip(text, idx)
    if first and text[idx] == "]":
        return turns, starts, ends, idx + 1
    while True:
        if not first:
            if text[idx] == "]":
                return turns, starts, ends, idx + 1
            if text[idx] != ",":
                raise ValueError("expected , or ]")
            idx = _skip(text, idx + 1)
        first = False
        if text[idx] != "{":
            raise ValueError("a turn that is not an object")
        starts.append(idx)
        value, idx = _DECODER.raw_decode(text, idx)
        turns.append(value)
        ends.append(idx)
        idx = _skip(text, idx)


def _finish(text: str, before: tuple[tuple[str, Any], ...], key: str, open_at: int, turns: list[Any],
            starts: list[int], ends: list[int], idx: int) -> IndexedBody | None:
    after: list[tuple[str, Any, int, int]] = []
    idx = _skip(text, idx)
    while text[idx] == ",":
        name, idx = _key(text, _skip(text, idx + 1))
        start = _skip(text, idx)
        value, idx = _DECODER.raw_decode(text, start)
        after.append((name, value, start, idx))
        idx = _skip(text, idx)
    if text[idx] != "}" or _skip(text, idx + 1) != len(text):
        return None
    if any(name == key for name, _ in before) or any(name == key for name, *_ in after):
        return None  # the turns key twice: the decoder would keep the last list
    doc = dict(before)
    doc[key] = turns
    for name, value, _, _ in after:
        doc[name] = value
    return IndexedBody(text, doc, key, before, open_at, tuple(starts), tuple(ends), tuple(after))


def _key(text: str, idx: int) -> tuple[str, int]:
    """A top-level key at ``idx`` and the offset after its ``:``."""
    if text[idx] != '"':
        raise ValueError("expected a key")
    key, idx = scanstring(text, idx + 1)
    idx = _skip(text, idx)
    if text[idx] != ":":
        raise ValueError("expected :")
    return key, idx + 1


def _skip(text: str, idx: int) -> int:
    return _WS.match(text, idx).end()  # type: ignore[union-attr]  # the pattern matches empty
