"""Lines an output only repeats from its own call's arguments become one marker.

A tool that writes a file often answers with the file it was given, numbered (``cat -n`` of the
new content): the model already has every line of it in the call it just made. A run of at least
``min_lines`` lines whose text, without number prefixes, is a run of lines of one string argument
of the call is replaced by::

    [headroom: call_echo lines 1-235 of argument content, numbered 1-235 arrow]

The marker says how to number the lines again, as ``seen_lines`` does (width 6 unless ``wW``
says otherwise). The output depends on its own text and call only, so the result is the same in
every request; ``expand(text, arguments)`` rebuilds the output exactly.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ._base import Compressed, Context, unchanged
from ._line_runs import Numbering, Place, describe_reference, expand_runs, reference_pattern, replace_runs, restores_exactly
from .markers import marker

_DETAIL = re.compile(reference_pattern(r"argument (?P<source>[A-Za-z0-9_.\-]+)"))
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


def _render(name: str, at: int, length: int, numbering: Numbering | None) -> str:
    return marker("call_echo", describe_reference(f"argument {name}", at, length, numbering))


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    min_lines = max(2, int(params.get("min_lines", 4)))
    arguments = _arguments(ctx)
    if not arguments or text.count("\n") + 1 < min_lines:
        return unchanged(text)
    places: dict[str, list[Place]] = {}
    for name, source in arguments:
        for position, line in enumerate(source):
            if line.strip():
                places.setdefault(line, []).append((name, source, position))
    candidate = replace_runs(text, lambda key: places.get(key, ())[:8], lambda run: len(run) >= min_lines, _render)
    if not restores_exactly(text, candidate, lambda shorter: expand(shorter, ctx.arguments)):
        return unchanged(text)
    return Compressed(candidate)


def expand(text: str, arguments: Any) -> str:
    """The output before ``compress``, given the same call arguments."""

    def lines_of(name: str) -> list[str] | None:
        source = arguments.get(name) if isinstance(arguments, Mapping) else None
        return source.split("\n") if isinstance(source, str) else None

    return expand_runs(text, "call_echo", _DETAIL, lines_of)
