"""Unified diffs: file headers folded losslessly, and optionally context trimmed to N lines.

Lossless: ``--- a/X`` and ``+++ b/X`` repeat what ``diff --git a/X b/X`` already says, so they
are dropped and a marker on the first line says so; restore puts them back before each file's
first hunk. With ``context`` >= 0, context lines further than that from a change are dropped,
hunks are split and renumbered so the diff still applies, and the original is kept.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ._base import Compressed, Context, lossless_or_unchanged, smaller_or_unchanged, unchanged
from .markers import marker, parse_marker, ref_of

_GIT_HEADER = re.compile(r"diff --git a/(\S+) b/(\S+)")
_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)")
FOLDED = "headers folded"


def _fold_headers(lines: list[str]) -> tuple[list[str], int]:
    out: list[str] = []
    folded = 0
    index = 0
    while index < len(lines):
        header = _GIT_HEADER.fullmatch(lines[index])
        if header and header[1] == header[2]:
            end = index + 1
            while end < len(lines) and not lines[end].startswith(("--- ", "@@", "diff ")):
                end += 1
            path = header[1]
            if (end + 2 < len(lines) and lines[end] == f"--- a/{path}" and lines[end + 1] == f"+++ b/{path}"
                    and lines[end + 2].startswith("@@")):
                out.extend(lines[index:end])
                index = end + 2
                folded += 1
                continue
        out.append(lines[index])
        index += 1
    return out, folded


def _unfold_headers(lines: list[str]) -> list[str]:
    out: list[str] = []
    path: str | None = None
    for line in lines:
        header = _GIT_HEADER.fullmatch(line)
        if header:
            path = header[1] if header[1] == header[2] else None
        elif line.startswith("--- "):
            path = None
        elif line.startswith("@@") and path is not None:
            out += [f"--- a/{path}", f"+++ b/{path}"]
            path = None
        out.append(line)
    return out


def _trim_hunk(header: re.Match[str], body: list[str], context: int) -> tuple[list[str], int]:
    """The hunk split into smaller hunks keeping ``context`` lines around changes; lines dropped."""
    entries: list[tuple[str, int, int]] = []  # line, old position before it, new position before it
    old, new = int(header[1]), int(header[3])
    for line in body:
        entries.append((line, old, new))
        if line.startswith("-"):
            old += 1
        elif line.startswith("+"):
            new += 1
        elif not line.startswith("\\"):
            old, new = old + 1, new + 1
    changed = [i for i, (line, _, _) in enumerate(entries) if line.startswith(("+", "-", "\\"))]
    keep = [False] * len(entries)
    for i in changed:
        for j in range(max(0, i - context), min(len(entries), i + context + 1)):
            keep[j] = True
    out: list[str] = []
    i = 0
    while i < len(entries):
        if not keep[i]:
            i += 1
            continue
        j = i
        while j < len(entries) and keep[j]:
            j += 1
        piece = [line for line, _, _ in entries[i:j]]
        old_count = sum(1 for line in piece if not line.startswith(("+", "\\")))
        new_count = sum(1 for line in piece if not line.startswith(("-", "\\")))
        old_start = entries[i][1] - (old_count == 0)
        new_start = entries[i][2] - (new_count == 0)
        out.append(f"@@ -{_range(old_start, old_count)} +{_range(new_start, new_count)} @@{header[5]}")
        out.extend(piece)
        i = j
    return out, len(entries) - sum(keep)


def _range(start: int, count: int) -> str:
    return str(start) if count == 1 else f"{start},{count}"


def _trim(lines: list[str], context: int) -> tuple[list[str], int]:
    out: list[str] = []
    dropped = 0
    index = 0
    while index < len(lines):
        header = _HUNK.fullmatch(lines[index])
        if header is None:
            out.append(lines[index])
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end][:1] in (" ", "+", "-", "\\") and not lines[end].startswith(("--- a/", "+++ b/")):
            end += 1
        trimmed, lost = _trim_hunk(header, lines[index + 1 : end], context)
        out += trimmed
        dropped += lost
        index = end
    return out, dropped


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    if "@@ -" not in text:
        return unchanged(text)
    lines = text.split("\n")
    context = int(params.get("context", -1))
    if context >= 0:
        trimmed, dropped = _trim(lines, context)
        if dropped:
            note = marker("diff", f"{dropped} context lines trimmed", ref_of(text))
            return smaller_or_unchanged(text, "\n".join([note, *trimmed]), (text,))
    folded_lines, folded = _fold_headers(lines)
    if not folded:
        return unchanged(text)
    return lossless_or_unchanged(text, "\n".join([marker("diff", FOLDED), *folded_lines]), restore)


def restore(text: str) -> str:
    lines = text.split("\n")
    found = parse_marker(lines[0])
    if found is None or found.kind != "diff" or found.detail != FOLDED:
        return text
    return "\n".join(_unfold_headers(lines[1:]))
