"""Lines an output only repeats from its own call's arguments become one marker.

A tool that writes a file often answers with the file it was given, numbered (``cat -n`` of the
new content): the model already has every line of it in the call it just made. A run of at least
``min_lines`` lines whose text, without number prefixes, is a run of lines of one string argument
of the call is replaced by::

    [headroom: call_echo 235 lines numbered 1-235 arrow, as lines 1-235 of argument content]

The marker says how to number the lines again, as ``seen_lines`` does (width 6 unless ``wW``
says otherwise). The output depends on its own text and call only, so the result is the same in
every request; ``expand(text, arguments)`` rebuilds the output exactly.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ._base import Compressed, Context, unchanged
from ._line_runs import RUN_PATTERN, describe_run, renumber, run_length, split_prefix
from .markers import marker, parse_marker

_DETAIL = re.compile(rf"{RUN_PATTERN}, as lines ([0-9]+)-([0-9]+) of argument ([A-Za-z0-9_.\-]+)")
_ARGUMENT_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
MIN_ARGUMENT_CHARS = 200
"""Arguments shorter than this cannot hold a run worth a marker."""


def _arguments(ctx: Context) -> list[tuple[str, list[str]]]:
    """The call's long string arguments, split into lines, in a stable order."""
    if not isinstance(ctx.arguments, Mapping):
        return []
    return [(name, value.split("\n")) for name, value in sorted(ctx.arguments.items(), key=lambda kv: str(kv[0]))
            if isinstance(name, str) and _ARGUMENT_NAME.fullmatch(name)
            and isinstance(value, str) and len(value) >= MIN_ARGUMENT_CHARS]


def _render(length: int, numbering, name: str, at: int) -> str:
    return marker("call_echo", f"{describe_run(length, numbering)}, as lines {at + 1}-{at + length} of argument {name}")


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    min_lines = max(2, int(params.get("min_lines", 4)))
    arguments = _arguments(ctx)
    if not arguments or text.count("\n") + 1 < min_lines:
        return unchanged(text)
    lines = text.split("\n")
    split = [split_prefix(line) for line in lines]
    prefixes = [prefix for prefix, _ in split]
    keys = [key for _, key in split]
    places: dict[str, list[tuple[str, list[str], int]]] = {}
    for name, source in arguments:
        for position, line in enumerate(source):
            if line.strip():
                places.setdefault(line, []).append((name, source, position))

    out: list[str] = []
    replaced = 0
    i = 0
    while i < len(lines):
        best: tuple[int, str, int] | None = None
        for name, source, at in places.get(keys[i], ())[:8]:
            length = run_length(prefixes, keys, i, source, at)
            if best is None or length > best[0]:
                best = (length, name, at)
        if best is not None and best[0] >= min_lines:
            length, name, at = best
            out.append(_render(length, prefixes[i], name, at))
            replaced += length
            i += length
            continue
        out.append(lines[i])
        i += 1
    if not replaced:
        return unchanged(text)
    candidate = "\n".join(out)
    if len(candidate) >= len(text):
        return unchanged(text)
    try:
        if expand(candidate, ctx.arguments) != text:
            return unchanged(text)
    except ValueError:
        return unchanged(text)
    return Compressed(candidate)


def expand(text: str, arguments: Any) -> str:
    """The output before ``compress``, given the same call arguments."""
    out: list[str] = []
    for line in text.split("\n"):
        found = parse_marker(line) if line.startswith("[headroom: call_echo ") else None
        detail = _DETAIL.fullmatch(found.detail) if found and found.kind == "call_echo" else None
        if detail is None:
            out.append(line)
            continue
        at, end = int(detail[6]), int(detail[7])
        source = arguments.get(detail[8]) if isinstance(arguments, Mapping) else None
        if not isinstance(source, str) or at < 1 or end < at:
            raise ValueError(f"reference to lines {at}-{end} of a missing argument {detail[8]}")
        source_lines = source.split("\n")
        if end > len(source_lines):
            raise ValueError(f"argument {detail[8]} has fewer than {end} lines")
        out.extend(renumber(source_lines[at - 1 : end], detail.groups()[:5]))
    return "\n".join(out)
