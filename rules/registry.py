"""What a rule may name that the proxy defines: the compressors with their parameters, and the
retrieve tool.

The rule checker validates a file against these declarations, and ``addon.compress`` pairs each
with the function that runs it; both import this module and nothing of each other, so the rule
language never imports the proxy. A compressor is added here and in ``addon/compress`` together
(``addon.compress`` refuses to load when the two lists differ).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["RETRIEVE_TOOL", "CompressorInfo", "DECLARED", "ParamSpec", "is_retrieve_tool"]

RETRIEVE_TOOL = "headroom_retrieve"
_NAMESPACED = re.compile(r"(?:^|__|[./:])headroom_retrieve$")
"""Claude Code names MCP tools ``mcp__<server>__<tool>``; other clients use dots or slashes."""


def is_retrieve_tool(name: str | None) -> bool:
    return bool(name) and _NAMESPACED.search(name or "") is not None


@dataclass(frozen=True)
class ParamSpec:
    """One parameter a compressor accepts, as the rule schema validates it."""

    type: type | tuple[type, ...]
    default: Any
    help: str = ""


@dataclass(frozen=True)
class CompressorInfo:
    """A compressor as the rule language knows it: its name, parameters and what it may lose."""

    name: str
    params: Mapping[str, ParamSpec]
    lossless: bool
    help: str = ""
    uses_earlier_texts: bool = False
    """Reads ``Context.earlier_texts`` (the pipeline then passes it and keys its memo on it)."""
    lossy_when: str | None = None
    """A boolean parameter that, set true, makes this otherwise lossless compressor drop something."""
    refers_within_request: bool = False
    """What it takes out is still in the same request (an identical earlier output, an earlier
    read, lines an earlier output shows, the call's own arguments): the model loses nothing even
    without a way to retrieve the original, so it runs when lossy compression may not."""

    def allowed_without_retrieval(self, params: Mapping[str, Any] | None = None) -> bool:
        """Whether it may run in a request whose model cannot retrieve originals."""
        return self.refers_within_request or self.is_lossless(params)

    def is_lossless(self, params: Mapping[str, Any] | None = None) -> bool:
        """Whether running with ``params`` (defaults where missing) loses nothing."""
        if not self.lossless:
            return False
        if self.lossy_when is None:
            return True
        value = (params or {}).get(self.lossy_when, self.params[self.lossy_when].default)
        return not value


def _info(name: str, lossless: bool, help: str, uses_earlier_texts: bool = False,
          lossy_when: str | None = None, refers_within_request: bool = False,
          **params: ParamSpec) -> CompressorInfo:
    return CompressorInfo(name=name, params=params, lossless=lossless, help=help,
                          uses_earlier_texts=uses_earlier_texts, lossy_when=lossy_when,
                          refers_within_request=refers_within_request)


DECLARED: Mapping[str, CompressorInfo] = {
    info.name: info
    for info in [
        _info("ansi", False,
              "Strip ANSI escapes; keep only the last frame of carriage-return redraws and progress-bar runs."),
        _info("line_numbers", True,
              "Drop the line numbers of a numbered file read (Read's `N→`, `cat -n`); one marker per run restores them.",
              min_lines=ParamSpec(int, 3, "Shortest consecutive numbered run worth a marker.")),
        _info("search", True,
              "Group grep/rg `path:line:text` output by file: each path once, then `line:text` rows.",
              max_per_file=ParamSpec(int, 0, "Keep at most this many matches per file (0 = all; >0 is lossy).")),
        _info("listing", True,
              "ls -R output: each directory header after the first names only its subdirectory, indented by depth."),
        _info("exit_status", True,
              "mini-swe-agent's `<returncode>N</returncode><output>` framing as one `[headroom: exit N]` line; run it last.",
              lossy_when="quiet_success",
              quiet_success=ParamSpec(bool, False, "A command that exited 0 and printed something is sent as its "
                                                   "output alone, as most agents show success (lossy: the original is kept).")),
        _info("ls_long", True,
              "ls -l / ls -la rows without column padding; the common file and directory modes, owner, group and date said once in a marker."),
        _info("paths", True,
              "Path lists (find, git ls-files, grep -l, globs): the paths after one that lie in its directory go on its line, relative to that directory."),
        _info("traceback", True,
              "Python traceback frames as `path:line in function`; a frame in the same file as the one above drops the path."),
        _info("json_table", True,
              "Re-render a JSON array of records (top level or one level down) as a header and rows; same JSON value.",
              min_rows=ParamSpec(int, 3, "Fewest records worth a table.")),
        _info("json_sample", False,
              "Sample a big JSON array: head, tail, error-ish items, outliers and items matching the call's arguments.",
              max_items=ParamSpec(int, 20, "Arrays longer than this are sampled down to about this many items."),
              head=ParamSpec(int, 5, "Items always kept from the start."),
              tail=ParamSpec(int, 3, "Items always kept from the end.")),
        _info("log", False,
              "Logs and build/test output: noise out, repeats folded; past max_lines keep head, tail, problems with context.",
              max_lines=ParamSpec(int, 150, "Elide only when the folded output is longer than this."),
              head=ParamSpec(int, 20, "Lines always kept from the start."),
              tail=ParamSpec(int, 30, "Lines always kept from the end."),
              context=ParamSpec(int, 3, "Lines kept around each error, warning, failure or summary line."),
              fold_repeats=ParamSpec(bool, True, "Fold repeated and same-shape lines.")),
        _info("diff", True,
              "Unified diffs: fold ---/+++ headers implied by diff --git (lossless); context >= 0 trims context (lossy).",
              context=ParamSpec(int, -1, "Context lines to keep around changes; -1 keeps all (lossless).")),
        _info("reread", False, refers_within_request=True, help=
              "A file read again: a reference to the earlier read when identical, else a diff against it when small.",
              context=ParamSpec(int, 2, "Context lines in the diff."),
              max_ratio=ParamSpec((int, float), 0.5, "Send the diff only when at most this share of the read's size.")),
        _info("dedupe", False, refers_within_request=True, help=
              "An output identical to an earlier one in the conversation becomes a reference to it.",
              min_chars=ParamSpec(int, 200, "Shorter outputs are left alone.")),
        _info("seen_lines", False, refers_within_request=True, help=
              "Runs of lines already shown by an earlier tool output become one marker pointing back at them.",
              uses_earlier_texts=True,
              min_lines=ParamSpec(int, 3, "Shortest run worth a reference."),
              min_chars=ParamSpec(int, 100, "Fewest characters a run must hold to be worth a reference.")),
        _info("call_echo", False, refers_within_request=True, help=
              "Runs of lines that only repeat a string argument of the output's own call (a written file echoed back) become one marker.",
              min_lines=ParamSpec(int, 4, "Shortest run worth a marker.")),
        _info("long_lines", False,
              "Cut very long unbroken lines (minified code, base64) to their start and end.",
              max_chars=ParamSpec(int, 2000, "Lines longer than this with few spaces are cut."),
              keep_chars=ParamSpec(int, 200, "Characters kept from the start (half as many from the end).")),
    ]
}
