"""grep / ripgrep output grouped by file: each path once, then its ``line:text`` rows.

    src/app.py:12:def main():            [headroom: search 5 lines grouped by file]
    src/app.py:13-    run()       ->     src/app.py
    src/app.py:40:main()                 12:def main():
                                         13-    run()
                                         40:main()

Match rows keep ``:`` and context rows keep ``-`` after the number, ``--`` separators stay.
``grep -r`` without ``-n`` prints ``path:text``; when the call ran grep, such rows become
``:text`` under their path. grep's own notes (``grep: x.pyc: binary file matches``) stay where
they are, and the path after one is named again. The marker counts the grouped lines so text after them (a wrapper's closing tag) is left
alone. Grouping is lossless and checked by restoring it; with ``max_per_file`` set, rows past
the cap are dropped into the originals and a marker says how many.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ._base import Compressed, Context, lossless_or_unchanged, smaller_or_unchanged, unchanged
from ._wrapper import unwrap
from .markers import marker, parse_marker, ref_of

_MATCH = re.compile(r"(?P<path>[^\n]+?):(?P<line>[1-9][0-9]*):")
_ROW = re.compile(r"[1-9][0-9]*[:-]")
_PLAIN = re.compile(r"(?P<path>[^\s:]+):")
GREP_COMMAND = re.compile(r"(?:^|[|;&]\s*)(?:git\s+grep|grep|egrep|fgrep|rg)\s")
MAX_OTHER_SHARE = 0.2
"""Lines that are not matches (grep's own notes) may be kept in place, up to this share."""
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}:\d{2}")
_DETAIL = re.compile(r"([0-9]+) lines grouped by file")
SEPARATOR = "--"


def _looks_like_path(candidate: str) -> bool:
    """A file path, not a clock: ``10:00:00`` and ``2025-06-01T10:00`` are never grep paths."""
    return ("/" in candidate or "." in candidate) and not _DATE_LIKE.search(candidate)


def _context_path(line: str, paths: dict[str, None]) -> str | None:
    """The known path that ``line`` is a ``path-N-text`` context row of, if any."""
    for path in paths:
        if line.startswith(path + "-"):
            row = _ROW.match(line, len(path) + 1)
            if row and line[row.end() - 1] == "-":
                return path
    return None


def _parse(lines: list[str], unnumbered: bool) -> list[tuple[str, str]] | None:
    """(path, row) per line, row being ``N:text``, ``N-text``, ``:text`` (``grep -r`` without
    ``-n``, only when ``unnumbered``) or ``--``; ("", line) for a line that is none of these (a
    ``grep: ...: binary file matches`` note). None when that is not grep output."""
    matches = [_MATCH.match(line) for line in lines]
    paths = {match["path"]: None for match in matches if match and _looks_like_path(match["path"])}
    plain = [_PLAIN.match(line) if unnumbered and not match else None for line, match in zip(lines, matches)]
    paths.update((found["path"], None) for found in plain if found and _looks_like_path(found["path"]))
    if not paths:
        return None
    parsed: list[tuple[str, str]] = []
    for line, match, found in zip(lines, matches, plain):
        if line == SEPARATOR:
            parsed.append(("", SEPARATOR))
        elif match and match["path"] in paths:
            parsed.append((match["path"], line[len(match["path"]) + 1 :]))
        elif found and found["path"] in paths:
            parsed.append((found["path"], line[len(found["path"]) :]))
        else:
            path = _context_path(line, paths)
            parsed.append((path, line[len(path) + 1 :]) if path is not None else ("", line))
    passed_through = sum(1 for path, row in parsed if not path and row != SEPARATOR)
    if passed_through > MAX_OTHER_SHARE * len(parsed):
        return None
    return parsed


def _group(parsed: list[tuple[str, str]], max_per_file: int) -> tuple[list[str], int]:
    """Rendered rows and how many lines the per-file cap dropped."""
    out: list[str] = []
    current: str | None = None
    shown = dropped_here = dropped_total = 0
    for path, row in parsed:
        if row == SEPARATOR:
            out.append(SEPARATOR)
            continue
        if not path:  # kept as it was; the next row names its path again
            if dropped_here:
                out.append(marker("search", f"{dropped_here} more lines in this file"))
                dropped_here = 0
            out.append(row)
            current = None
            continue
        if path != current:
            if dropped_here:
                out.append(marker("search", f"{dropped_here} more lines in this file"))
            out.append(path)
            current, shown, dropped_here = path, 0, 0
        if max_per_file and shown >= max_per_file:
            dropped_here += 1
            dropped_total += 1
            continue
        out.append(row)
        shown += _row_separator(row) != "-"
    if dropped_here:
        out.append(marker("search", f"{dropped_here} more lines in this file"))
    return out, dropped_total


def _row_separator(row: str) -> str:
    if row.startswith(":"):
        return ""
    match = _ROW.match(row)
    assert match is not None
    return row[match.end() - 1]


def _is_row(line: str) -> bool:
    return line.startswith(":") or _ROW.match(line) is not None


def _line_is_unambiguous(path: str, row: str) -> bool:
    """A header must not read as a row; a line kept as it was must not read as a row either."""
    if not path:
        return row == SEPARATOR or (not _is_row(row) and parse_marker(row) is None)
    return not _is_row(path) and path != SEPARATOR and parse_marker(path) is None


def _is_grep_command(arguments: Any) -> bool:
    """``grep -r`` without ``-n`` prints ``path:text``: read that way only when a grep ran."""
    command = arguments.get("command") if isinstance(arguments, Mapping) else None
    return isinstance(command, str) and GREP_COMMAND.search(command) is not None


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    max_per_file = max(0, int(params.get("max_per_file", 0)))
    head, body, tail = unwrap(text)
    lines = body.split("\n")
    trailing_newline = len(lines) > 1 and lines[-1] == ""
    if trailing_newline:
        lines.pop()
    if len(lines) < 2:
        return unchanged(text)
    parsed = _parse(lines, unnumbered=_is_grep_command(ctx.arguments))
    if parsed is None or not all(_line_is_unambiguous(path, row) for path, row in parsed):
        return unchanged(text)
    rows, dropped = _group(parsed, max_per_file)
    header = [marker("search", f"{len(rows)} lines grouped by file")]
    if dropped:
        header.append(marker("search", f"{dropped} lines over the per-file cap dropped", ref_of(text)))
    candidate = head + "\n".join(header + rows) + ("\n" if trailing_newline else "") + tail
    if dropped:
        return smaller_or_unchanged(text, candidate, (text,))
    return lossless_or_unchanged(text, candidate, restore)


def restore(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        found = parse_marker(lines[i])
        detail = _DETAIL.fullmatch(found.detail) if found and found.kind == "search" else None
        if detail is None:
            out.append(lines[i])
            i += 1
            continue
        block = lines[i + 1 : i + 1 + int(detail[1])]
        path: str | None = None
        for index, line in enumerate(block):
            if line == SEPARATOR:
                out.append(line)
            elif _is_row(line):
                if path is None:
                    raise ValueError("a grep row before any path")
                out.append(f"{path}{_row_separator(line)}{line}")
            elif index + 1 < len(block) and _is_row(block[index + 1]):
                path = line
            else:  # a line that was kept as it was
                out.append(line)
                path = None
        i += 1 + len(block)
    return "\n".join(out)
