"""The compressors and the registry the rule language validates against.

``REGISTRY`` maps each compressor's public name to its spec (function, parameters with types and
defaults, lossless flag, help, and for lossless ones the function that restores the input).
``run`` is how the proxy calls one: defaults filled in, the result never longer than the input
(``not_longer``: no more characters, or fewer tokens), and an unexpected failure logged and
answered with the input untouched.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

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


def _spec(name: str, module: Any, lossless: bool, help: str, uses_earlier_texts: bool = False,
          lossy_when: str | None = None, refers_within_request: bool = False, **params: ParamSpec) -> CompressorSpec:
    return CompressorSpec(name=name, fn=module.compress, params=params, lossless=lossless, help=help,
                          restore=getattr(module, "restore", None) if lossless else None,
                          uses_earlier_texts=uses_earlier_texts, lossy_when=lossy_when,
                          refers_within_request=refers_within_request)


REGISTRY: dict[str, CompressorSpec] = {
    spec.name: spec
    for spec in [
        _spec("ansi", ansi, False,
              "Strip ANSI escapes; keep only the last frame of carriage-return redraws and progress-bar runs."),
        _spec("line_numbers", line_numbers, True,
              "Drop the line numbers of a numbered file read (Read's `N→`, `cat -n`); one marker per run restores them.",
              min_lines=ParamSpec(int, 3, "Shortest consecutive numbered run worth a marker.")),
        _spec("search", search, True,
              "Group grep/rg `path:line:text` output by file: each path once, then `line:text` rows.",
              max_per_file=ParamSpec(int, 0, "Keep at most this many matches per file (0 = all; >0 is lossy).")),
        _spec("listing", listing, True,
              "ls -R output: each directory header after the first names only its subdirectory, indented by depth."),
        _spec("exit_status", exit_status, True,
              "mini-swe-agent's `<returncode>N</returncode><output>` framing as one `[headroom: exit N]` line; run it last.",
              lossy_when="quiet_success",
              quiet_success=ParamSpec(bool, False, "A command that exited 0 and printed something is sent as its "
                                                   "output alone, as most agents show success (lossy: the original is kept).")),
        _spec("ls_long", ls_long, True,
              "ls -l / ls -la rows without column padding; the common file and directory modes, owner, group and date said once in a marker."),
        _spec("paths", paths, True,
              "Path lists (find, git ls-files, grep -l, globs): the paths after one that lie in its directory go on its line, relative to that directory."),
        _spec("traceback", traceback, True,
              "Python traceback frames as `path:line in function`; a frame in the same file as the one above drops the path."),
        _spec("json_table", json_table, True,
              "Re-render a JSON array of records (top level or one level down) as a header and rows; same JSON value.",
              min_rows=ParamSpec(int, 3, "Fewest records worth a table.")),
        _spec("json_sample", json_sample, False,
              "Sample a big JSON array: head, tail, error-ish items, outliers and items matching the call's arguments.",
              max_items=ParamSpec(int, 20, "Arrays longer than this are sampled down to about this many items."),
              head=ParamSpec(int, 5, "Items always kept from the start."),
              tail=ParamSpec(int, 3, "Items always kept from the end.")),
        _spec("log", log, False,
              "Logs and build/test output: noise out, repeats folded; past max_lines keep head, tail, problems with context.",
              max_lines=ParamSpec(int, 150, "Elide only when the folded output is longer than this."),
              head=ParamSpec(int, 20, "Lines always kept from the start."),
              tail=ParamSpec(int, 30, "Lines always kept from the end."),
              context=ParamSpec(int, 3, "Lines kept around each error, warning, failure or summary line."),
              fold_repeats=ParamSpec(bool, True, "Fold repeated and same-shape lines.")),
        _spec("diff", diff, True,
              "Unified diffs: fold ---/+++ headers implied by diff --git (lossless); context >= 0 trims context (lossy).",
              context=ParamSpec(int, -1, "Context lines to keep around changes; -1 keeps all (lossless).")),
        _spec("reread", reread, False, refers_within_request=True, help=
              "A file read again: a reference to the earlier read when identical, else a diff against it when small.",
              context=ParamSpec(int, 2, "Context lines in the diff."),
              max_ratio=ParamSpec((int, float), 0.5, "Send the diff only when at most this share of the read's size.")),
        _spec("dedupe", dedupe, False, refers_within_request=True, help=
              "An output identical to an earlier one in the conversation becomes a reference to it.",
              min_chars=ParamSpec(int, 200, "Shorter outputs are left alone.")),
        _spec("seen_lines", seen_lines, False, refers_within_request=True, help=
              "Runs of lines already shown by an earlier tool output become one marker pointing back at them.",
              uses_earlier_texts=True,
              min_lines=ParamSpec(int, 3, "Shortest run worth a reference."),
              min_chars=ParamSpec(int, 100, "Fewest characters a run must hold to be worth a reference.")),
        _spec("call_echo", call_echo, False, refers_within_request=True, help=
              "Runs of lines that only repeat a string argument of the output's own call (a written file echoed back) become one marker.",
              min_lines=ParamSpec(int, 4, "Shortest run worth a marker.")),
        _spec("long_lines", long_lines, False,
              "Cut very long unbroken lines (minified code, base64) to their start and end.",
              max_chars=ParamSpec(int, 2000, "Lines longer than this with few spaces are cut."),
              keep_chars=ParamSpec(int, 200, "Characters kept from the start (half as many from the end).")),
    ]
}


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
