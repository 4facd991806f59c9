"""The compressors, each the function behind a name the rule language declares.

``REGISTRY`` maps each compressor's public name to its spec: its declaration in
``rules/registry.py`` (parameters with types and defaults, lossless flag, help) with the function
that runs it and, for lossless ones, the function that restores the input.
``run`` is how the proxy calls one: defaults filled in, the result never longer than the input
(``not_longer``: no more characters, or fewer tokens), and an unexpected failure logged and
answered with the input untouched.
"""

from __future__ import annotations

import dataclasses
import logging
from types import ModuleType
from typing import Any, Mapping

from headroom_mitm.rules.registry import DECLARED, CompressorInfo

from . import (ansi, call_echo, dedupe, diff, exit_status, json_sample, json_table, line_numbers, listing, log,
               long_lines, ls_long, paths, reread, search, seen_lines, traceback)
from ._base import Compressed, CompressorSpec, Context, ParamSpec, not_longer
from .kinds import KINDS, detect_kind
from .markers import MARKER_RE, marker, parse_marker, ref_of

__all__ = [
    "REGISTRY", "Compressed", "CompressorSpec", "Context", "ParamSpec", "KINDS", "MARKER_RE",
    "detect_kind", "marker", "not_longer", "parse_marker", "ref_of", "run", "resolve_params", "UnknownCompressor",
]

logger = logging.getLogger(__name__)


class UnknownCompressor(KeyError):
    """A rule named a compressor that does not exist; the message lists the ones that do."""


# The function (and, for a lossless compressor, the restorer) of each compressor the rule language
# declares in ``rules/registry.py``.
_MODULES: dict[str, ModuleType] = {
    "ansi": ansi, "line_numbers": line_numbers, "search": search, "listing": listing,
    "exit_status": exit_status, "ls_long": ls_long, "paths": paths, "traceback": traceback,
    "json_table": json_table, "json_sample": json_sample, "log": log, "diff": diff, "reread": reread,
    "dedupe": dedupe, "seen_lines": seen_lines, "call_echo": call_echo, "long_lines": long_lines,
}
if set(_MODULES) != set(DECLARED):
    raise ImportError(f"addon.compress and rules/registry.py disagree on the compressors: "
                      f"{sorted(set(_MODULES) ^ set(DECLARED))}")


def _spec(info: CompressorInfo, module: ModuleType) -> CompressorSpec:
    declared = {f.name: getattr(info, f.name) for f in dataclasses.fields(info)}
    return CompressorSpec(**declared, fn=module.compress, restore=module.restore if info.lossless else None)


REGISTRY: dict[str, CompressorSpec] = {name: _spec(info, _MODULES[name]) for name, info in DECLARED.items()}


def resolve_params(name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The parameters a compressor runs with: its defaults overridden by ``params``, type-checked."""
    if name not in REGISTRY:
        raise UnknownCompressor(f"unknown compressor {name!r}; known: {', '.join(sorted(REGISTRY))}")
    spec = REGISTRY[name]
    resolved = {key: param.default for key, param in spec.params.items()}
    for key, value in (params or {}).items():
        if key not in spec.params:
            raise ValueError(f"compressor {name!r} has no parameter {key!r}; it takes: {', '.join(spec.params) or 'none'}")
        expected = spec.params[key].type
        if isinstance(value, bool) and expected is not bool and expected != (bool,):
            raise TypeError(f"parameter {key!r} of {name!r} wants {expected}, got a boolean")
        if not isinstance(value, expected):
            raise TypeError(f"parameter {key!r} of {name!r} wants {expected}, got {type(value).__name__}")
        resolved[key] = value
    return resolved


def run(name: str, text: str, params: Mapping[str, Any] | None = None, ctx: Context | None = None) -> Compressed:
    """Apply one compressor safely: never raises on the text, never returns a longer one."""
    resolved = resolve_params(name, params)
    try:
        result = REGISTRY[name].fn(text, resolved, ctx or Context())
    except Exception:
        logger.warning("compressor %s failed on a %d-character output; leaving it unchanged", name, len(text),
                       exc_info=True)
        return Compressed(text)
    if not not_longer(result.text, text):
        return Compressed(text)
    return result
