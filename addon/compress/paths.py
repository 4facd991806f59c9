"""Lists of paths, one a line (``find``, ``git ls-files``, ``grep -l``, a glob's matches), with
the paths after one that lie in its directory written on its line, relative to that directory::

    sphinx/builders/html/__init__.py           [headroom: paths 5 in 2 lines; words after ...]
    sphinx/builders/html/transforms.py    ->   sphinx/builders/html/__init__.py transforms.py
    sphinx/builders/latex/__init__.py          sphinx/builders/latex/__init__.py constants.py util/x.py
    sphinx/builders/latex/constants.py
    sphinx/builders/latex/util/x.py

A path then costs what its directory does not already say, and a space instead of a line break
(the space joins the next word's token, the line break is a token of its own): a long ``find``
output loses about half its tokens. Where a new line starts is chosen to spend the fewest
tokens, so a subdirectory with one or two entries stays on its parent's line (``util/x.py``)
while a big one gets lines of its own. When every path shares a directory (a glob prints
absolute paths), the marker names it once (``relative to /home/u/project/``) and each line's
first path leaves it off.

What is a path list is decided conservatively: a path line has no whitespace, ``:``, ``<`` or
``>``; there are at least ``MIN_PATHS`` of them and half hold a ``/``; the other lines that are
not tags (prose, a truncation note) are at most a tenth as many; and no line ends with ``:``
(``ls -R`` headers, which ``listing`` handles). Each run of path lines gets its own marker that
counts the lines it covers, so the tags and notes around it (mini-swe-agent's wrapper, the
agent's own cut of a long output) stay byte for byte. The compact form is used only when it has
fewer tokens and restores to exactly the input.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

from ._base import Compressed, Context, fewest_tokens_restoring, unchanged
from .markers import marker, parse_marker
from ..tokens import count_tokens

MIN_PATHS = 8
MAX_OTHER_SHARE = 0.1
"""Lines that are neither paths, tags nor blank, as a share of the path lines (a truncation warning)."""
MAX_WORDS_PER_LINE = 64
"""Bounds the search for line starts; a new line every 64 paths costs next to nothing."""
HOW = "words after a line's first path are paths relative to its directory"

_NOT_IN_PATH = re.compile(r"[\s:<>]")
_TAG_LINE = re.compile(r"(?:<[^<>\n]*>)+")
_NOT_IN_DETAIL = re.compile(r"[\[\]#]")
_DETAIL = re.compile(rf"([0-9]+) in ([0-9]+) lines(?: relative to (\S+))?; {re.escape(HOW)}")
_OPENER = "[headroom: paths "


def _is_path(line: str) -> bool:
    return bool(line) and not _NOT_IN_PATH.search(line)


def _directory(path: str) -> str:
    """Everything up to and including the last ``/`` (empty for a bare name)."""
    return path[: path.rfind("/") + 1]


def _is_path_list(lines: list[str]) -> bool:
    paths = [line for line in lines if _is_path(line)]
    if len(paths) < MIN_PATHS or 2 * sum("/" in path for path in paths) < len(paths):
        return False
    if any(line.endswith(":") for line in lines):
        return False
    other = sum(1 for line in lines if line.strip() and not _is_path(line) and not _TAG_LINE.fullmatch(line))
    return other <= MAX_OTHER_SHARE * len(paths)


def _path_runs(lines: list[str]) -> list[tuple[int, int]]:
    """(first, past last) index of each run of at least two consecutive path lines."""
    runs: list[tuple[int, int]] = []
    index = 0
    while index < len(lines):
        if not _is_path(lines[index]):
            index += 1
            continue
        end = index + 1
        while end < len(lines) and _is_path(lines[end]):
            end += 1
        if end - index >= 2:
            runs.append((index, end))
        index = end
    return runs


def _common_root(paths: list[str]) -> str:
    """The directory every path lies below, or "" when there is none a marker can name."""
    root = _directory(os.path.commonprefix(paths))
    while root and root in paths:  # a line's first path must keep at least one character
        root = _directory(root[:-1])
    return "" if _NOT_IN_DETAIL.search(root) else root


class _TokenCosts:
    """Tokens of the words a rendering may use, counted once each."""

    def __init__(self) -> None:
        self._known: dict[str, int] = {}

    def __call__(self, word: str) -> int:
        if word not in self._known:
            self._known[word] = count_tokens(word)
        return self._known[word]


def _line_starts(paths: list[str], root: str, cost: _TokenCosts) -> list[int]:
    """Where each rendered line starts, the split with the fewest tokens (by word counts)."""
    count = len(paths)
    best = [0] + [float("inf")] * count
    start_of = [0] * (count + 1)
    for start in range(count):
        spent = best[start] + cost("\n" + paths[start][len(root):])
        directory = _directory(paths[start])
        end = start + 1
        while True:
            if spent < best[end]:
                best[end], start_of[end] = spent, start
            if end == count or end - start >= MAX_WORDS_PER_LINE:
                break
            path = paths[end]
            if len(path) <= len(directory) or not path.startswith(directory):
                break
            spent += cost(" " + path[len(directory):])
            end += 1
    starts: list[int] = []
    end = count
    while end > 0:
        end = start_of[end]
        starts.append(end)
    return starts[::-1]


def _render(paths: list[str], root: str, cost: _TokenCosts) -> list[str]:
    starts = _line_starts(paths, root, cost)
    rendered = []
    for start, end in zip(starts, starts[1:] + [len(paths)]):
        directory = _directory(paths[start])
        words = [paths[start][len(root):]] + [path[len(directory):] for path in paths[start + 1 : end]]
        rendered.append(" ".join(words))
    relative = f" relative to {root}" if root else ""
    return [marker("paths", f"{len(paths)} in {len(rendered)} lines{relative}; {HOW}")] + rendered


def _compact(paths: list[str], cost: _TokenCosts) -> list[str]:
    """The run's rendering with the fewest tokens, or the run itself when none saves any."""
    best, best_tokens = paths, count_tokens("\n".join(paths))
    for root in dict.fromkeys(["", _common_root(paths)]):
        candidate = _render(paths, root, cost)
        if (tokens := count_tokens("\n".join(candidate))) < best_tokens:
            best, best_tokens = candidate, tokens
    return best


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    lines = text.split("\n")
    if not _is_path_list(lines):
        return unchanged(text)
    cost = _TokenCosts()
    out: list[str] = []
    done = 0
    for start, end in _path_runs(lines):
        out.extend(lines[done:start])
        out.extend(_compact(lines[start:end], cost))
        done = end
    out.extend(lines[done:])
    return fewest_tokens_restoring(text, ["\n".join(out)], restore)



def restore(text: str) -> str:
    if _OPENER not in text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        found = parse_marker(lines[index]) if lines[index].startswith(_OPENER) else None
        detail = _DETAIL.fullmatch(found.detail) if found and found.kind == "paths" else None
        if detail is None:
            out.append(lines[index])
            index += 1
            continue
        path_count, line_count, root = int(detail[1]), int(detail[2]), detail[3] or ""
        block = lines[index + 1 : index + 1 + line_count]
        if len(block) != line_count:
            raise ValueError(f"paths: the marker covers {line_count} lines, {len(block)} follow it")
        paths = _expand(block, root)
        if len(paths) != path_count:
            raise ValueError(f"paths: the marker counts {path_count} paths, its lines hold {len(paths)}")
        out.extend(paths)
        index += 1 + line_count
    return "\n".join(out)


def _expand(block: list[str], root: str) -> list[str]:
    paths: list[str] = []
    for line in block:
        words = line.split(" ")
        if not all(words):
            raise ValueError(f"paths: an empty word in {line!r}")
        first = root + words[0]
        directory = _directory(first)
        paths.append(first)
        paths.extend(directory + word for word in words[1:])
    return paths
