"""Runs of lines the model has already seen, in an earlier tool output, become one marker.

Agents look at the same region of a file again and again (after each edit, with a slightly
different range). A run of at least ``min_lines`` lines whose text is, line for line, in an
earlier output of the conversation is replaced by::

    [headroom: seen lines 30-54 of call step-7, numbered 103-127 tab]

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
from typing import Any, Iterator, Mapping

from ._base import Compressed, Context, unchanged
from ._line_runs import (Numbering, Place, describe_reference, expand_runs, reference_pattern, replace_runs,
                         restores_exactly, split_prefix)
from ._wrapper import framing_head
from .markers import marker

_DETAIL = re.compile(reference_pattern(r"call (?P<source>\S+?)"))
_CALL_ID = re.compile(r"[^\s\[\]#]+")
SIGNIFICANT_CHARS = 12
"""A line shorter than this (blank, a brace, ``else:``) proves nothing on its own."""
MIN_SIGNIFICANT = 2
MAX_CANDIDATES = 8
"""Per earlier output, how many places of one line are tried: bounds the work on repetitive text."""


@lru_cache(maxsize=512)
def _earlier_index(text: str) -> tuple[tuple[str, ...], dict[str, tuple[int, ...]]]:
    """The comparable text of each line of an earlier output, and where each significant one is."""
    keys = tuple(split_prefix(line)[1] for line in text.split("\n"))
    places: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        if len(key.strip()) >= SIGNIFICANT_CHARS:
            places.setdefault(key, []).append(position)
    return keys, {key: tuple(found[-MAX_CANDIDATES:]) for key, found in places.items()}


def _render(call_id: str, at: int, length: int, numbering: Numbering | None) -> str:
    return marker("seen", describe_reference(f"call {call_id}", at, length, numbering))


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    min_lines = max(2, int(params.get("min_lines", 3)))
    min_chars = max(0, int(params.get("min_chars", 100)))
    earlier = [(call_id, sent) for call_id, sent in ctx.earlier_texts.items()
               if call_id != ctx.call_id and _CALL_ID.fullmatch(call_id or "")]
    if not earlier or text.count("\n") + 1 < min_lines:
        return unchanged(text)
    indexes = [(call_id, *_earlier_index(sent)) for call_id, sent in reversed(earlier)]  # latest first

    def places_of(key: str) -> Iterator[Place]:
        if len(key.strip()) >= SIGNIFICANT_CHARS:
            for call_id, earlier_keys, places in indexes:
                for at in places.get(key, ()):
                    yield call_id, earlier_keys, at

    head = framing_head(text)  # the exit code and warning of this output stay its own
    body = replace_runs(text[head:], places_of, lambda run: _worth_it(run, min_lines, min_chars), _render)
    if body is None:
        return unchanged(text)
    candidate = text[:head] + body
    if not restores_exactly(text, candidate, lambda shorter: expand(shorter, ctx.earlier_texts)):
        return unchanged(text)
    return Compressed(candidate, (text,))


def _worth_it(run: list[str], min_lines: int, min_chars: int) -> bool:
    return (len(run) >= min_lines and sum(len(key) for key in run) >= min_chars
            and sum(1 for key in run if len(key.strip()) >= SIGNIFICANT_CHARS) >= MIN_SIGNIFICANT)


def expand(text: str, earlier_texts: Mapping[str, str]) -> str:
    """The output before ``compress``, given the same earlier outputs as sent."""

    def lines_of(call_id: str) -> tuple[str, ...] | None:
        earlier = earlier_texts.get(call_id)
        return None if earlier is None else _earlier_index(earlier)[0]

    return expand_runs(text, "seen", _DETAIL, lines_of)
