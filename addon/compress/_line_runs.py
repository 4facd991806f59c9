"""Numbered lines and runs of lines, as the line-based compressors write them in markers.

Claude Code's Read prefixes lines with their number right-aligned to six columns and an arrow,
``cat -n`` / ``nl`` with a tab. ``line_numbers`` drops the numbers of a consecutive block,
``seen_lines`` points at a run an earlier output shows, ``call_echo`` at a run of the call's own
arguments; the last two compare lines without their prefixes (an edit above shifts the numbers,
not the text). All three describe numbering the same way, ``numbered F-L arrow|tab [wW]`` (width
6 unless ``wW`` says otherwise), from which the prefixes come back exactly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_PREFIX = re.compile(r"( *)([0-9]+)([→\t])")
_SEPARATORS = {"→": "arrow", "\t": "tab"}
_SEPARATOR_BY_NAME = {name: sep for sep, name in _SEPARATORS.items()}
DEFAULT_WIDTH = 6

Numbering = tuple[int, int, str]
"""(first number, width, separator) of a numbered line."""

NUMBERING_PATTERN = r"numbered ([0-9]+)-([0-9]+) (arrow|tab)(?: w([0-9]+))?"
"""Matches ``describe_numbering``'s text: first, last, separator name, width."""
RUN_PATTERN = rf"([0-9]+) lines(?: {NUMBERING_PATTERN})?"
"""Matches ``describe_run``'s text; its five groups go to ``renumber`` as they are."""


def split_prefix(line: str) -> tuple[Numbering | None, str]:
    """(numbering or None, the text after a canonical number prefix)."""
    match = _PREFIX.match(line)
    if match is None or (match[2].startswith("0") and match[2] != "0"):
        return None, line
    width = len(match[1]) + len(match[2]) if match[1] else 0
    number = int(match[2])
    if prefix(number, width, match[3]) != match.group(0):
        return None, line
    return (number, width, match[3]), line[match.end():]


def prefix(number: int, width: int, separator: str) -> str:
    return f"{number:>{width}}{separator}"


def run_length(prefixes: Sequence[Numbering | None], keys: Sequence[str], start: int,
               source: Sequence[str], at: int) -> int:
    """How many lines from ``start`` equal ``source``'s from ``at``, numbered consistently."""
    first = prefixes[start]
    length = 0
    while start + length < len(keys) and at + length < len(source):
        here = prefixes[start + length]
        if (here is None) != (first is None):
            break
        if here is not None and here != (first[0] + length, first[1], first[2]):
            break
        if keys[start + length] != source[at + length]:
            break
        length += 1
    return length


def describe_numbering(first: int, last: int, width: int, separator: str) -> str:
    detail = f"numbered {first}-{last} {_SEPARATORS[separator]}"
    return detail if width == DEFAULT_WIDTH else f"{detail} w{width}"


def describe_run(length: int, numbering: Numbering | None) -> str:
    if numbering is None:
        return f"{length} lines"
    number, width, separator = numbering
    return f"{length} lines {describe_numbering(number, number + length - 1, width, separator)}"


def number_lines(lines: Sequence[str], groups: Sequence[str | None]) -> list[str]:
    """``lines`` with their prefixes back, from ``NUMBERING_PATTERN``'s four groups; ValueError
    if the numbering does not hold exactly these lines."""
    first, last, separator_name, width = groups
    if int(last) - int(first) + 1 != len(lines):
        raise ValueError(f"numbered {first}-{last} does not hold {len(lines)} lines")
    separator = _SEPARATOR_BY_NAME[separator_name]
    width_value = int(width) if width else DEFAULT_WIDTH
    return [prefix(int(first) + k, width_value, separator) + line for k, line in enumerate(lines)]


def renumber(run: Sequence[str], groups: Sequence[str | None]) -> list[str]:
    """The run's lines as they stood, from ``RUN_PATTERN``'s five groups; ValueError if they
    do not describe this run."""
    if int(groups[0]) != len(run):
        raise ValueError(f"a run of {groups[0]} lines names {len(run)}")
    return list(run) if groups[1] is None else number_lines(run, groups[1:])
