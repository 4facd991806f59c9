"""Logs and build/test output: noise out, repeats folded, the middle elided, problems kept.

1. Terminal noise goes as in ``ansi``.
2. A line repeated verbatim is kept once with a count; a run of lines of the same shape
   (equal once digits are ignored: timestamps, counters, ids) keeps its first and last line.
   Lines that report a problem are never folded by shape, only exact repeats of them.
3. If still longer than ``max_lines``, only the head, the tail, every error, warning, failure
   and summary line with ``context`` lines around it, and every stack trace whole (pytest's
   ``FAILURES`` and ``ERRORS`` reports included) are kept.

Everything dropped is kept in the originals under the ref its marker shows.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ._base import Compressed, Context, smaller_or_unchanged, unchanged
from ._wrapper import unwrap
from .ansi import clean_lines
from .markers import marker, ref_of

IMPORTANT_RE = re.compile(
    r"\b(?:error|errors|fail|failed|failing|failure|failures|fatal|exception|panic|panicked|warning|warn"
    r"|traceback|assert|assertion|denied|refused|timeout|timed out|segmentation fault|abort|aborted"
    r"|not found|no such file|cannot|can't|unable|invalid|undefined|deprecated|killed|exit code|exit status)\b"
    r"|^(?:E|F)\s{2,}|^(?:FAILED|PASSED|ERROR|OK|FAIL|SKIPPED|XFAIL)\b|^=+ .* =+$|^-+ .* -+$"
    r"|\b\d+ (?:passed|failed|errors?|skipped|tests?|warnings?|deselected|xfailed|xpassed)\b"
    r"|^(?:Ran \d+ tests?|Total|Summary|Done|Finished|Successfully|BUILD)\b",
    re.I,
)
_TRACE_START = re.compile(r"^\s*Traceback \(most recent call last\)|^\S.*(?:Error|Exception)(?::|$)|^thread '.*' panicked")
_TRACE_FRAME = re.compile(r"^\s+(?:File \"|at |\.\.\.|\^|~)|^\s{2,}\S|^During handling|^The above exception|^Caused by")
_PYTEST_SECTION = re.compile(r"^=+ (?:FAILURES|ERRORS) =+$")
"""pytest's report of each failure: tracebacks with the source of every frame, up to the next
``=== ... ===`` heading. It is the stack trace of a test run, so it is kept whole."""
_SECTION_END = re.compile(r"^=+ .* =+$")
_DIGITS = re.compile(r"\d+")
MIN_SHAPE_RUN = 4


def _shape(line: str) -> str:
    return _DIGITS.sub("#", line)


def _fold(lines: list[str], originals: list[str]) -> list[str]:
    """Exact repeats kept once with a count; same-shape runs cut to their first and last line."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i + 1
        while j < len(lines) and lines[j] == lines[i]:
            j += 1
        if j - i >= 3:
            out += [lines[i], marker("log", f"previous line repeated {j - i - 1} more times")]
            i = j
            continue
        if not IMPORTANT_RE.search(lines[i]) and lines[i].strip():
            shape = _shape(lines[i])
            k = i + 1
            while k < len(lines) and _shape(lines[k]) == shape and not IMPORTANT_RE.search(lines[k]):
                k += 1
            if k - i >= MIN_SHAPE_RUN:
                middle = "\n".join(lines[i + 1 : k - 1])
                originals.append(middle)
                out += [lines[i], marker("log", f"{k - i - 2} similar lines", ref_of(middle)), lines[k - 1]]
                i = k
                continue
        out.extend(lines[i:j])
        i = j
    return out


def _keep_mask(lines: list[str], head: int, tail: int, context: int) -> list[bool]:
    keep = [False] * len(lines)
    for index in range(min(head, len(lines))):
        keep[index] = True
    for index in range(max(0, len(lines) - tail), len(lines)):
        keep[index] = True
    index = 0
    while index < len(lines):
        line = lines[index]
        if _PYTEST_SECTION.match(line):
            end = index + 1
            while end < len(lines) and not _SECTION_END.match(lines[end]):
                end += 1
            for kept in range(index, end):
                keep[kept] = True
            index = end
            continue
        if _TRACE_START.search(line):
            end = index + 1
            while end < len(lines) and _TRACE_FRAME.match(lines[end]):
                end += 1
            end = min(end + 1, len(lines))  # the exception line that closes a Python traceback
            for kept in range(max(0, index - context), min(len(lines), end + context)):
                keep[kept] = True
            index = end
            continue
        if IMPORTANT_RE.search(line) or line.startswith("[headroom: log"):
            for kept in range(max(0, index - context), min(len(lines), index + context + 1)):
                keep[kept] = True
        index += 1
    return keep


def _elide(lines: list[str], keep: list[bool], originals: list[str]) -> list[str]:
    out: list[str] = []
    index = 0
    while index < len(lines):
        if keep[index]:
            out.append(lines[index])
            index += 1
            continue
        end = index
        while end < len(lines) and not keep[end]:
            end += 1
        dropped = "\n".join(lines[index:end])
        if end - index == 1:
            out.append(lines[index])
        else:
            originals.append(dropped)
            out.append(marker("log", f"{end - index} lines elided", ref_of(dropped)))
        index = end
    return out


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    if "\n" not in text:
        return unchanged(text)
    head_tag, body, tail_tag = unwrap(text)
    lines, frames = clean_lines(body)
    originals: list[str] = []
    if frames:
        originals.append(body)
    if params.get("fold_repeats", True):
        lines = _fold(lines, originals)
    max_lines = int(params.get("max_lines", 150))
    if len(lines) > max_lines:
        keep = _keep_mask(lines, int(params.get("head", 20)), int(params.get("tail", 30)),
                          max(0, int(params.get("context", 3))))
        lines = _elide(lines, keep, originals)
    if frames:
        lines.append(marker("log", f"{frames} progress frames dropped", ref_of(body)))
    candidate = head_tag + "\n".join(lines) + tail_tag
    return smaller_or_unchanged(text, candidate, tuple(originals))
