"""Runs of lines the model has already seen, in an earlier tool output, become one marker.

Agents look at the same region of a file again and again (after each edit, with a slightly
different range). A run of at least ``min_lines`` lines whose text is, line for line, in an
earlier output of the conversation is replaced by::

    [headroom: seen 25 lines numbered 103-127 tab, as lines 30-54 in the output of call step-7]

- ``numbered F-L SEP [wW]`` appears when the run's own lines carried ``cat -n`` / ``nl`` tab or
  Read arrow prefixes: they are compared without them (an edit above shifts the numbers, not the
  text), and the marker says how to number them again (width 6 unless ``wW`` says otherwise).
- ``lines A-B`` count the lines of the earlier output *as it was sent* (``ctx.earlier_texts``),
  from 1, so the reference only ever points at text the model has in front of it, and backward,
  so earlier turns keep their bytes and the prompt cache holds.

``expand(text, earlier_texts)`` rebuilds the output exactly from the same earlier texts.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Mapping

from ._base import Compressed, Context, unchanged
from .markers import marker, parse_marker

_PREFIX = re.compile(r"( *)([0-9]+)([→\t])")
_SEPARATORS = {"→": "arrow", "\t": "tab"}
_SEPARATOR_BY_NAME = {name: sep for sep, name in _SEPARATORS.items()}
_DETAIL = re.compile(
    r"seen ([0-9]+) lines(?: numbered ([0-9]+)-([0-9]+) (arrow|tab)(?: w([0-9]+))?)?,"
    r" as lines ([0-9]+)-([0-9]+) in the output of call (\S+)"
)
_CALL_ID = re.compile(r"[^\s\[\]#]+")
DEFAULT_WIDTH = 6
SIGNIFICANT_CHARS = 12
"""A line shorter than this (blank, a brace, ``else:``) proves nothing on its own."""
MIN_SIGNIFICANT = 3
MAX_CANDIDATES = 8
"""Per earlier output, how many places of one line are tried: bounds the work on repetitive text."""


def _split_prefix(line: str) -> tuple[tuple[int, int, str] | None, str]:
    """((number, width, separator) or None, the text after a canonical number prefix)."""
    match = _PREFIX.match(line)
    if match is None or (match[2].startswith("0") and match[2] != "0"):
        return None, line
    width = len(match[1]) + len(match[2]) if match[1] else 0
    number = int(match[2])
    if _prefix(number, width, match[3]) != match.group(0):
        return None, line
    return (number, width, match[3]), line[match.end():]


def _prefix(number: int, width: int, separator: str) -> str:
    return f"{number:>{width}}{separator}"


@lru_cache(maxsize=512)
def _earlier_index(text: str) -> tuple[tuple[str, ...], dict[str, tuple[int, ...]]]:
    """The comparable text of each line of an earlier output, and where each significant one is."""
    keys = tuple(_split_prefix(line)[1] for line in text.split("\n"))
    places: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        if len(key.strip()) >= SIGNIFICANT_CHARS:
            places.setdefault(key, []).append(position)
    return keys, {key: tuple(found[-MAX_CANDIDATES:]) for key, found in places.items()}


def _run_length(prefixes: list, keys: list[str], start: int, earlier_keys: tuple[str, ...], at: int) -> int:
    """How many lines from ``start`` equal the earlier output's from ``at``, numbered consistently."""
    first = prefixes[start]
    length = 0
    while start + length < len(keys) and at + length < len(earlier_keys):
        here = prefixes[start + length]
        if (here is None) != (first is None):
            break
        if here is not None and here != (first[0] + length, first[1], first[2]):
            break
        if keys[start + length] != earlier_keys[at + length]:
            break
        length += 1
    return length


def _render(length: int, numbering: tuple[int, int, str] | None, call_id: str, at: int) -> str:
    detail = f"seen {length} lines"
    if numbering is not None:
        number, width, separator = numbering
        detail += f" numbered {number}-{number + length - 1} {_SEPARATORS[separator]}"
        if width != DEFAULT_WIDTH:
            detail += f" w{width}"
    detail += f", as lines {at + 1}-{at + length} in the output of call {call_id}"
    return marker("seen", detail)


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    min_lines = max(2, int(params.get("min_lines", 6)))
    min_chars = max(0, int(params.get("min_chars", 200)))
    earlier = [(call_id, sent) for call_id, sent in ctx.earlier_texts.items()
               if call_id != ctx.call_id and _CALL_ID.fullmatch(call_id or "")]
    if not earlier or text.count("\n") + 1 < min_lines:
        return unchanged(text)
    lines = text.split("\n")
    split = [_split_prefix(line) for line in lines]
    prefixes = [prefix for prefix, _ in split]
    keys = [key for _, key in split]
    indexes = [(call_id, *_earlier_index(sent)) for call_id, sent in reversed(earlier)]  # latest first

    out: list[str] = []
    replaced = 0
    i = 0
    while i < len(lines):
        best: tuple[int, str, int] | None = None  # (length, call id, position in the earlier output)
        if len(keys[i].strip()) >= SIGNIFICANT_CHARS:
            for call_id, earlier_keys, places in indexes:
                for at in places.get(keys[i], ()):
                    length = _run_length(prefixes, keys, i, earlier_keys, at)
                    if best is None or length > best[0]:
                        best = (length, call_id, at)
        if best is not None and _worth_it(keys[i : i + best[0]], min_lines, min_chars):
            length, call_id, at = best
            out.append(_render(length, prefixes[i], call_id, at))
            replaced += length
            i += length
            continue
        out.append(lines[i])
        i += 1
    if not replaced:
        return unchanged(text)
    candidate = "\n".join(out)
    if len(candidate) >= len(text):
        return unchanged(text)
    try:
        if expand(candidate, ctx.earlier_texts) != text:
            return unchanged(text)
    except ValueError:
        return unchanged(text)
    return Compressed(candidate, (text,))


def _worth_it(run: list[str], min_lines: int, min_chars: int) -> bool:
    return (len(run) >= min_lines and sum(len(key) for key in run) >= min_chars
            and sum(1 for key in run if len(key.strip()) >= SIGNIFICANT_CHARS) >= MIN_SIGNIFICANT)


def expand(text: str, earlier_texts: Mapping[str, str]) -> str:
    """The output before ``compress``, given the same earlier outputs as sent."""
    out: list[str] = []
    for line in text.split("\n"):
        found = parse_marker(line) if line.startswith("[headroom: seen ") else None
        detail = _DETAIL.fullmatch(found.detail) if found and found.kind == "seen" else None
        if detail is None:
            out.append(line)
            continue
        length, first, last, at, end = int(detail[1]), detail[2], detail[3], int(detail[6]), int(detail[7])
        earlier = earlier_texts.get(detail[8])
        if earlier is None or end - at + 1 != length or at < 1:
            raise ValueError(f"reference to lines {at}-{end} of an output not available: {detail[8]}")
        earlier_keys = _earlier_index(earlier)[0]
        if end > len(earlier_keys):
            raise ValueError(f"call {detail[8]}'s output has fewer than {end} lines")
        run = earlier_keys[at - 1 : end]
        if first is None:
            out.extend(run)
            continue
        separator = _SEPARATOR_BY_NAME[detail[4]]
        width = int(detail[5]) if detail[5] else DEFAULT_WIDTH
        if int(last) - int(first) + 1 != length:
            raise ValueError(f"numbered {first}-{last} does not hold {length} lines")
        out.extend(_prefix(int(first) + k, width, separator) + key for k, key in enumerate(run))
    return "\n".join(out)

