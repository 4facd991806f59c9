"""A file read again: a reference to the earlier read when identical, else a diff against it.

``ctx.earlier_reads`` maps a path to the latest earlier read of it in the conversation, so the
output only ever points backward and earlier turns keep their bytes (the prompt cache holds).
The diff compares the file contents without Read's line-number prefixes, so one inserted line
does not renumber the whole file into the diff; hunk numbers are the file's line numbers.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Mapping

from ._base import Compressed, Context, smaller_or_unchanged, unchanged
from .markers import marker, ref_of

PATH_ARGUMENTS = ("file_path", "path", "filename", "target_file")
_NUMBER_PREFIX = re.compile(r" *([0-9]+)[→\t]")


def read_path(arguments: Any) -> str | None:
    """The file a read-like call names in its arguments."""
    if isinstance(arguments, dict):
        for key in PATH_ARGUMENTS:
            if isinstance(arguments.get(key), str) and arguments[key]:
                return arguments[key]
    return None


def _content_lines(text: str) -> list[str] | None:
    """The file's lines without number prefixes, when the read starts at line 1 (else None)."""
    lines = text.split("\n")
    first = _NUMBER_PREFIX.match(lines[0])
    if first is None:
        return lines
    if first[1] != "1":
        return None
    stripped: list[str] = []
    for line in lines:
        match = _NUMBER_PREFIX.match(line)
        stripped.append(line[match.end():] if match else line)
    return stripped


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    path = read_path(ctx.arguments)
    earlier = ctx.earlier_reads.get(path) if path else None
    if earlier is None:
        return unchanged(text)
    earlier_call, earlier_text = earlier
    if earlier_call == ctx.call_id:
        return unchanged(text)
    if earlier_text == text:
        note = marker("reread", f"identical to the read in call {earlier_call}", ref_of(text))
        return smaller_or_unchanged(text, note, (text,))
    old, new = _content_lines(earlier_text), _content_lines(text)
    if old is None or new is None:
        return unchanged(text)
    context = max(0, int(params.get("context", 2)))
    diff = list(difflib.unified_diff(old, new, n=context, lineterm=""))[2:]
    note = marker("reread", f"changed since the read in call {earlier_call}; unified diff against it", ref_of(text))
    candidate = "\n".join([note, *diff])
    if len(candidate) > float(params.get("max_ratio", 0.5)) * len(text):
        return unchanged(text)
    return smaller_or_unchanged(text, candidate, (text,))
