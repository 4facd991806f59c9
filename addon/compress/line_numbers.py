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
from ._line_runs import NUMBERING_PATTERN, describe_numbering, number_lines, prefix, split_prefix
from .markers import marker, parse_marker

_DETAIL = re.compile(NUMBERING_PATTERN)


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    min_lines = max(1, int(params.get("min_lines", 3)))
    if "→" not in text and "\t" not in text:
        return unchanged(text)
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        start = split_prefix(lines[i])[0]
        if start is None:
            out.append(lines[i])
            i += 1
            continue
        first, width, separator = start
        j = i
        while j < len(lines) and lines[j].startswith(prefix(first + j - i, width, separator)):
            j += 1
        if j - i < min_lines:
            out.extend(lines[i:j])
        else:
            out.append(marker("lines", describe_numbering(first, first + j - i - 1, width, separator)))
            out.extend(line[len(prefix(first + k, width, separator)):] for k, line in enumerate(lines[i:j]))
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
        body = lines[i + 1 : i + 2 + last - first]
        if len(body) != last - first + 1:
            raise ValueError(f"numbered block {first}-{last} is cut short")
        out.extend(number_lines(body, detail.groups()))
        i += 1 + len(body)
    return "\n".join(out)
