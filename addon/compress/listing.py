"""``ls -R`` output with short directory headers, and each directory's entries on one line.

``ls -R`` repeats a directory's full path in the header of each subdirectory's listing::

    ./astropy/config:                      [headroom: listing ...]
    paths.py                               ./astropy/config:
                                   ->      paths.py
    ./astropy/config/tests:
    test_configs.py                          tests:
                                           test_configs.py

A header indented by two spaces per level (``  tests:``) is the subdirectory of the nearest
header above it indented one level less; a header that is not the child of one above (the
first, or the first after a cut in a truncated output) is kept whole and starts a new tree.
A header is a line ending in ``:`` that opens the output or follows a blank line or a tag line
(``<output>``); its entries run to the next such line.

When no entry holds a space, each directory's entries are also written on one line, split by
single spaces, the way ``ls`` prints to a terminal: a name then costs one token less (the line
break), a quarter of an ``ls -R`` output's tokens. The rendering with fewer tokens is used, and
only once it restores to exactly the input.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ._base import Compressed, Context, fewest_tokens_restoring, unchanged
from .markers import marker, parse_marker

NOTE = "ls -R; an indented header: is a subdirectory of the nearest header above it with one indent less"
JOINED_NOTE = ("ls -R; each directory's entries on one line split by spaces; "
               "an indented header: is a subdirectory of the nearest header above it with one indent less")
INDENT = "  "
_TAG = re.compile(r"<[^<>\n]*>")
MIN_HEADERS = 3


def _opens_header(line: str) -> bool:
    """Whether a header may follow ``line``: a blank line or a tag line ends a directory's entries."""
    return line == "" or bool(_TAG.fullmatch(line)) or line.endswith(">")


def _header_positions(lines: list[str], start: int) -> list[int]:
    """Indexes of the lines from ``start`` that are directory headers."""
    return [index for index in range(start, len(lines))
            if len(lines[index]) >= 2 and lines[index].endswith(":")
            and (index == start or _opens_header(lines[index - 1]))]


def _entry_runs(lines: list[str], headers: list[int]) -> dict[int, int]:
    """First entry line -> the line after the last, for each header with entries below it."""
    runs: dict[int, int] = {}
    for header in headers:
        end = header + 1
        while end < len(lines) and not _opens_header(lines[end]):
            end += 1
        if end > header + 1:
            runs[header + 1] = end
    return runs


def _joinable(entry: str) -> bool:
    return not any(char.isspace() for char in entry)


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    if text.count(":\n") < MIN_HEADERS:
        return unchanged(text)
    lines = text.split("\n")
    headers = _header_positions(lines, 0)
    if len(headers) < MIN_HEADERS:
        return unchanged(text)
    first = headers[0]
    headers = _header_positions(lines, first)  # as restore will see them, after the marker
    short_headers = _short_headers(lines, headers)
    runs = _entry_runs(lines, headers)
    candidates = [_render(lines, first, short_headers, {}, NOTE)]
    if runs and all(_joinable(lines[i]) for start, end in runs.items() for i in range(start, end)):
        candidates.append(_render(lines, first, short_headers, runs, JOINED_NOTE))
    return fewest_tokens_restoring(text, candidates, restore)


def _short_headers(lines: list[str], headers: list[int]) -> dict[int, str]:
    """Header line index -> its short form, for the headers that are a subdirectory of one above."""
    stack: list[str] = []
    short: dict[int, str] = {}
    for index in headers:
        line = lines[index]
        path = line[:-1]
        depth = _parent_depth(stack, path)
        if depth is None or line.startswith(" "):
            stack = [path]
            continue
        short[index] = INDENT * (depth + 1) + path[len(stack[depth]) + 1 :] + ":"
        stack = stack[: depth + 1] + [path]
    return short


def _render(lines: list[str], first: int, short_headers: dict[int, str], runs: dict[int, int], note: str) -> str:
    out = lines[:first] + [marker("listing", note)]
    index = first
    while index < len(lines):
        if index in runs:
            out.append(" ".join(lines[index : runs[index]]))
            index = runs[index]
            continue
        out.append(short_headers.get(index, lines[index]))
        index += 1
    return "\n".join(out)



def _parent_depth(stack: list[str], path: str) -> int | None:
    """The depth of the header above that ``path`` is a direct subdirectory of."""
    for depth in range(len(stack) - 1, -1, -1):
        parent = stack[depth]
        if path.startswith(parent + "/"):
            name = path[len(parent) + 1 :]
            if name and "/" not in name and not name.startswith(" "):
                return depth
            return None
    return None


def restore(text: str) -> str:
    lines = text.split("\n")
    at = next((i for i, line in enumerate(lines) if _note_of(line)), None)
    if at is None:
        return text
    joined = _note_of(lines[at]) == JOINED_NOTE
    rest = lines[at + 1 :]
    headers = _header_positions(rest, 0)
    runs = _entry_runs(rest, headers) if joined else {}
    header_set = set(headers)
    stack: list[str] = []
    out = lines[:at]
    for index, line in enumerate(rest):
        if index in runs:
            if runs[index] != index + 1:
                raise ValueError(f"entries of a joined listing span lines {index}-{runs[index]}")
            out.extend(line.split(" "))
            continue
        if index not in header_set:
            out.append(line)
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            stack = [line[:-1]]
            out.append(line)
            continue
        depth = indent // len(INDENT)
        if indent % len(INDENT) or depth > len(stack):
            raise ValueError(f"header {line!r} has no parent above it")
        path = f"{stack[depth - 1]}/{line[indent:-1]}"
        stack = stack[:depth] + [path]
        out.append(path + ":")
    return "\n".join(out)


def _note_of(line: str) -> str | None:
    found = parse_marker(line) if line.startswith("[headroom: listing") else None
    if found is None or found.kind != "listing" or found.detail not in (NOTE, JOINED_NOTE):
        return None
    return found.detail
