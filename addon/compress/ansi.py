"""Terminal noise out: ANSI escapes, carriage-return redraws and runs of progress-bar lines.

Escape sequences (colours, cursor moves, window titles) mean nothing to a model and are dropped
silently. Progress frames a terminal would have overwritten are real text, so when any are
dropped the original is kept and one marker at the end says how many and where to find it.
CRLF line ends are line structure, not redraws: they are kept.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ._base import Compressed, Context, smaller_or_unchanged, unchanged
from .markers import marker, ref_of

ANSI_RE = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: window titles, hyperlinks
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, erase line
    r"|\x1b[@-Z\\-_]"  # two-character escapes
)
PROGRESS_RE = re.compile(
    r"(?:\d{1,3}(?:\.\d+)?%|\b\d+/\d+\b).*?(?:[█▉▊▋▌▍▎▏━]|#{3,}|={3,}|\.{6,})"
    r"|(?:[█▉▊▋▌▍▎▏━]{2,}|#{4,}|={3,}>).*?\d{1,3}(?:\.\d+)?%"
)


def strip_escapes(text: str) -> str:
    return ANSI_RE.sub("", text) if "\x1b" in text else text


def _last_frame(line: str) -> tuple[str, int]:
    """What a terminal shows of a line redrawn with bare carriage returns, and frames dropped."""
    crlf = line.endswith("\r")
    body = line[:-1] if crlf else line
    if "\r" not in body:
        return line, 0
    frames = body.split("\r")
    visible = [frame for frame in frames if frame.strip()]
    shown = visible[-1] if visible else ""
    return shown + ("\r" if crlf else ""), len(frames) - 1


def clean_lines(text: str) -> tuple[list[str], int]:
    """Lines with escapes and redraws removed, progress runs cut to their last line; frames dropped."""
    dropped = 0
    lines: list[str] = []
    for raw in strip_escapes(text).split("\n"):
        line, redraws = _last_frame(raw)
        dropped += redraws
        if lines and PROGRESS_RE.search(line) and PROGRESS_RE.search(lines[-1]):
            lines[-1] = line
            dropped += 1
        else:
            lines.append(line)
    return lines, dropped


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    if "\x1b" not in text and "\r" not in text and not PROGRESS_RE.search(text):
        return unchanged(text)
    lines, dropped = clean_lines(text)
    cleaned = "\n".join(lines)
    if not dropped:
        return smaller_or_unchanged(text, cleaned)
    note = marker("ansi", f"{dropped} progress frames dropped", ref_of(text))
    separator = "" if cleaned.endswith("\n") or not cleaned else "\n"
    return smaller_or_unchanged(text, f"{cleaned}{separator}{note}", (text,))
