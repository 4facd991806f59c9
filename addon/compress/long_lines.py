"""Very long unbroken lines (minified code, base64, data URIs) cut to their start and end.

A line counts when it is longer than ``max_chars`` and has few spaces: prose wraps, blobs do
not. The marker takes the place of the cut middle inside the line, so the line count
stays what it was. The cut middle of each line goes to the originals under the ref in its marker.
"""

from __future__ import annotations

from typing import Any, Mapping

from ._base import Compressed, Context, smaller_or_unchanged, unchanged
from .markers import marker, ref_of

MAX_SPACE_SHARE = 0.05


def _is_blob(line: str, max_chars: int) -> bool:
    return len(line) > max_chars and line.count(" ") <= MAX_SPACE_SHARE * len(line)


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    max_chars = max(1, int(params.get("max_chars", 2000)))
    keep = max(0, int(params.get("keep_chars", 200)))
    if len(text) <= max_chars:
        return unchanged(text)
    originals: list[str] = []
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not _is_blob(line, max_chars):
            continue
        tail_keep = keep // 2
        middle = line[keep : len(line) - tail_keep]
        originals.append(middle)
        note = marker("long_lines", f"{len(middle)} chars elided", ref_of(middle))
        lines[index] = f"{line[:keep]}{note}{line[len(line) - tail_keep:]}"
    if not originals:
        return unchanged(text)
    return smaller_or_unchanged(text, "\n".join(lines), tuple(originals))
