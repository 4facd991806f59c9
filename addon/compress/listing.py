"""``ls -R`` output with short directory headers: each names its subdirectory, indented by depth.

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
Entries are untouched. A header is a line ending in ``:`` that opens the output or follows a
blank line or a tag line (``<output>``). The rendering is restored and compared before use.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ._base import Compressed, Context, lossless_or_unchanged, unchanged
from .markers import marker, parse_marker

NOTE = "ls -R headers indented 2 spaces per level: an indented name: is a subdirectory of the nearest header above it with one level less"
INDENT = "  "
_TAG = re.compile(r"<[^<>\n]*>")
MIN_HEADERS = 3


def _header_positions(lines: list[str], start: int) -> list[int]:
    """Indexes of the lines from ``start`` that are directory headers."""
    found: list[int] = []
    for index in range(start, len(lines)):
        line = lines[index]
        if len(line) < 2 or not line.endswith(":"):
            continue
        before = lines[index - 1] if index > start else ""
        if index == start or before == "" or _TAG.fullmatch(before) or before.endswith(">"):
            found.append(index)
    return found


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    if text.count(":\n") < MIN_HEADERS:
        return unchanged(text)
    lines = text.split("\n")
    headers = _header_positions(lines, 0)
    if len(headers) < MIN_HEADERS:
        return unchanged(text)
    first = headers[0]
    headers = _header_positions(lines, first)  # as restore will see them, after the marker
    stack: list[str] = []
    shortened = 0
    out = lines[:first] + [marker("listing", NOTE)]
    header_set = set(headers)
    for index in range(first, len(lines)):
        line = lines[index]
        if index not in header_set:
            out.append(line)
            continue
        path = line[:-1]
        depth = _parent_depth(stack, path)
        if depth is None or line.startswith(" "):
            out.append(line)
            stack = [path]
            continue
        out.append(INDENT * (depth + 1) + path[len(stack[depth]) + 1 :] + ":")
        stack = stack[: depth + 1] + [path]
        shortened += 1
    if not shortened:
        return unchanged(text)
    return lossless_or_unchanged(text, "\n".join(out), restore)


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
    at = next((i for i, line in enumerate(lines) if _is_note(line)), None)
    if at is None:
        return text
    rest = lines[at + 1 :]
    headers = set(_header_positions(rest, 0))
    stack: list[str] = []
    out = lines[:at]
    for index, line in enumerate(rest):
        if index not in headers:
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


def _is_note(line: str) -> bool:
    found = parse_marker(line) if line.startswith("[headroom: listing") else None
    return found is not None and found.kind == "listing" and found.detail == NOTE
