"""Line-numbered file reads without the numbers: one marker says how to put them back.

Claude Code's Read tool prefixes every line with its number right-aligned to six columns and a
U+2192 arrow (``     12→code``); ``cat -n`` uses a tab (``    12\\tcode``). The numbers of a
consecutive run are implied by its first one, so a run becomes::

    [headroom: lines numbered 12-140 arrow]
    code
    ...

File reads are about half of what a coding agent resends, so this must be exact: every output
is restored and compared before it is used.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ._base import Compressed, Context, lossless_or_unchanged, unchanged
from .markers import marker, parse_marker

_SEPARATORS = {"→": "arrow", "\t": "tab"}
_SEPARATOR_BY_NAME = {name: sep for sep, name in _SEPARATORS.items()}
_NUMBERED = re.compile(r"( *)([0-9]+)([→\t])")
_DETAIL = re.compile(r"numbered ([0-9]+)-([0-9]+) (arrow|tab)(?: w([0-9]+))?")
DEFAULT_WIDTH = 6


def _prefix(number: int, width: int, separator: str) -> str:
    return f"{number:>{width}}{separator}"


def _start_of_block(line: str) -> tuple[int, int, str] | None:
    """(first number, width, separator) if ``line`` can open a numbered run."""
    match = _NUMBERED.match(line)
    if not match or (match[2].startswith("0") and match[2] != "0"):
        return None
    width = len(match[1]) + len(match[2]) if match[1] else 0
    number = int(match[2])
    if _prefix(number, width, match[3]) != match.group(0):
        return None
    return number, width, match[3]


def _block_marker(first: int, last: int, width: int, separator: str) -> str:
    detail = f"numbered {first}-{last} {_SEPARATORS[separator]}"
    if width != DEFAULT_WIDTH:
        detail += f" w{width}"
    return marker("lines", detail)


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    min_lines = max(1, int(params.get("min_lines", 3)))
    if "→" not in text and "\t" not in text:
        return unchanged(text)
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        start = _start_of_block(lines[i])
        if start is None:
            out.append(lines[i])
            i += 1
            continue
        first, width, separator = start
        j = i
        while j < len(lines) and lines[j].startswith(_prefix(first + j - i, width, separator)):
            j += 1
        if j - i < min_lines:
            out.extend(lines[i:j])
        else:
            out.append(_block_marker(first, first + j - i - 1, width, separator))
            out.extend(line[len(_prefix(first + k, width, separator)):] for k, line in enumerate(lines[i:j]))
        i = j
    return lossless_or_unchanged(text, "\n".join(out), restore)


def restore(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        found = parse_marker(lines[i])
        detail = _DETAIL.fullmatch(found.detail) if found and found.kind == "lines" else None
        if detail is None:
            out.append(lines[i])
            i += 1
            continue
        first, last = int(detail[1]), int(detail[2])
        separator = _SEPARATOR_BY_NAME[detail[3]]
        width = int(detail[4]) if detail[4] else DEFAULT_WIDTH
        body = lines[i + 1 : i + 2 + last - first]
        if len(body) != last - first + 1:
            raise ValueError(f"numbered block {first}-{last} is cut short")
        out.extend(_prefix(first + k, width, separator) + line for k, line in enumerate(body))
        i += 1 + len(body)
    return "\n".join(out)
