"""Numbered lines and runs of lines, as the line-based compressors write them in markers.

Claude Code's Read prefixes lines with their number right-aligned to six columns and an arrow,
``cat -n`` / ``nl`` with a tab. ``line_numbers`` drops the numbers of a consecutive block,
``seen_lines`` points at a run an earlier output shows, ``call_echo`` at a run of the call's own
arguments; the last two compare lines without their prefixes (an edit above shifts the numbers,
not the text). All three describe numbering the same way, ``numbered F-L arrow|tab [wW]`` (width
6 unless ``wW`` says otherwise), from which the prefixes come back exactly. A reference names
its run by place alone, ``lines A-B of <source>``: the count is B - A + 1, and every word in a
marker is resent on every later turn.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from .markers import parse_marker

_PREFIX = re.compile(r"( *)([0-9]+)([→\t])")
_SEPARATORS = {"→": "arrow", "\t": "tab"}
_SEPARATOR_BY_NAME = {name: sep for sep, name in _SEPARATORS.items()}
DEFAULT_WIDTH = 6

Numbering = tuple[int, int, str]
"""(first number, width, separator) of a numbered line."""

NUMBERING_PATTERN = r"numbered ([0-9]+)-([0-9]+) (arrow|tab)(?: w([0-9]+))?"
"""Matches ``describe_numbering``'s text: first, last, separator name, width."""


def reference_pattern(source: str) -> str:
    """A reference's detail, ``lines A-B of <source>[, numbered ...]``, for ``expand_runs``:
    groups ``at`` and ``end``, then ``source`` (a pattern naming where the lines are), then
    ``NUMBERING_PATTERN``'s four."""
    return rf"lines (?P<at>[0-9]+)-(?P<end>[0-9]+) of {source}(?:, {NUMBERING_PATTERN})?"


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


def describe_reference(source: str, at: int, length: int, numbering: Numbering | None) -> str:
    """``lines A-B of <source>``, and how the run was numbered when it was."""
    detail = f"lines {at + 1}-{at + length} of {source}"
    if numbering is None:
        return detail
    number, width, separator = numbering
    return f"{detail}, {describe_numbering(number, number + length - 1, width, separator)}"


def number_lines(lines: Sequence[str], groups: Sequence[str | None]) -> list[str]:
    """``lines`` with their prefixes back, from ``NUMBERING_PATTERN``'s four groups; ValueError
    if the numbering does not hold exactly these lines."""
    first, last, separator_name, width = groups
    if int(last) - int(first) + 1 != len(lines):
        raise ValueError(f"numbered {first}-{last} does not hold {len(lines)} lines")
    separator = _SEPARATOR_BY_NAME[separator_name]
    width_value = int(width) if width else DEFAULT_WIDTH
    return [prefix(int(first) + k, width_value, separator) + line for k, line in enumerate(lines)]


def renumber(run: Sequence[str], numbering: Sequence[str | None]) -> list[str]:
    """The run's lines as they stood, from ``NUMBERING_PATTERN``'s four groups (all None when
    the run was not numbered); ValueError if they do not describe this run."""
    return list(run) if numbering[0] is None else number_lines(run, numbering)


Place = tuple[str, Sequence[str], int]
"""Where a line stands elsewhere: (the source's name, the source's lines, the line's index)."""


def replace_runs(
    text: str,
    places_of: Callable[[str], Iterable[Place]],
    worth_it: Callable[[Sequence[str]], bool],
    render: Callable[[str, int, int, Numbering | None], str],
) -> str | None:
    """``text`` with each longest run of lines found elsewhere replaced by ``render(source name,
    first line in the source, length, the run's numbering)``, or None when no run was worth it.

    Lines compare without their number prefixes; ``places_of(line)`` offers where a line stands,
    ``worth_it(run)`` decides whether a run earns a marker.
    """
    lines = text.split("\n")
    split = [split_prefix(line) for line in lines]
    prefixes = [numbering for numbering, _ in split]
    keys = [key for _, key in split]
    out: list[str] = []
    replaced = False
    i = 0
    while i < len(lines):
        best: tuple[int, str, int] | None = None  # (length, source name, first line in the source)
        for name, source, at in places_of(keys[i]):
            length = run_length(prefixes, keys, i, source, at)
            if best is None or length > best[0]:
                best = (length, name, at)
        if best is not None and worth_it(keys[i : i + best[0]]):
            length, name, at = best
            out.append(render(name, at, length, prefixes[i]))
            replaced = True
            i += length
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out) if replaced else None


def restores_exactly(text: str, candidate: str | None, expand: Callable[[str], str]) -> bool:
    """Whether ``candidate`` is shorter than ``text`` and expands back to it exactly."""
    if candidate is None or len(candidate) >= len(text):
        return False
    try:
        return expand(candidate) == text
    except ValueError:
        return False


def expand_runs(text: str, kind: str, detail: re.Pattern[str],
                lines_of: Callable[[str], Sequence[str] | None]) -> str:
    """``text`` with each ``kind`` marker replaced by the run it stands for.

    ``detail`` matches the marker's detail (``reference_pattern``): the run's first and last line
    in its source, the source's name (group ``source``), which ``lines_of`` turns into the
    source's lines (None when it is not there), and the numbering. ValueError when a marker does
    not fit its source.
    """
    opener = f"[headroom: {kind} "
    out: list[str] = []
    for line in text.split("\n"):
        found = parse_marker(line) if line.startswith(opener) else None
        match = detail.fullmatch(found.detail) if found and found.kind == kind else None
        if match is None:
            out.append(line)
            continue
        at, end, name = int(match["at"]), int(match["end"]), match["source"]
        source = lines_of(name)
        if source is None or at < 1 or end < at:
            raise ValueError(f"{kind}: reference to lines {at}-{end} of {name!r}, which is not there")
        if end > len(source):
            raise ValueError(f"{kind}: {name!r} has fewer than {end} lines")
        out.extend(renumber(source[at - 1 : end], match.groups()[-4:]))
    return "\n".join(out)
