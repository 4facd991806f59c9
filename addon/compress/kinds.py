"""What kind of content a tool output is, so rules can pick a compressor for it.

Cheap by design: it looks at the tool name and at most the first lines of the text. The grep
test insists on a path-like prefix and a line number without a leading zero, so log lines
stamped ``2025-06-01T10:00:00`` or ``10:00:00`` are never taken for ``path:line:`` matches.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["KINDS", "detect_kind"]

KINDS = ("json", "log", "test", "search", "diff", "file_read", "text")

_READ_TOOLS = {"read", "read_file", "readfile", "view", "view_file", "notebookread", "open_file", "cat"}
_SEARCH_TOOLS = {"grep", "glob", "rg", "ripgrep", "search", "search_files", "find_files", "codebase_search"}
_WRAPPED = re.compile(r"\A<returncode>-?\d+</returncode>\s*<output>\n?(.*?)(?:</output>\s*)?\Z", re.S)
# An output too long for mini-swe-agent comes as its head and tail, after a warning; the head
# says what kind of output it is.
_CUT = re.compile(r"\A<returncode>-?\d+</returncode>\s*(?:<warning>.*?</warning>\s*)?<output_head>\n?(.*?)</output_head>", re.S)
_SAMPLE_LINES = 200
_SAMPLE_CHARS = 64_000

_NUMBERED_LINE = re.compile(r" *[1-9][0-9]*[→\t]")
_GREP_LINE = re.compile(r"(?P<path>[^\s:][^:\n]*?)[:-](?P<line>[1-9][0-9]*)[:-]")
_PLAIN_GREP_LINE = re.compile(r"(?P<path>[^\s:]+):")
_GREP_COMMAND = re.compile(r"(?:^|[|;&]\s*)(?:git\s+grep|grep|egrep|fgrep|rg)\s")
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}")
_DIFF = re.compile(r"^diff --git |^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@", re.M)
_TEST = re.compile(
    r"test session starts|^=+ .*\b(?:passed|failed|errors?)\b.* in [\d.]+s|^(?:PASSED|FAILED|ERROR) \S"
    r"|^Ran \d+ tests? in |^--- (?:PASS|FAIL):|^(?:ok|FAIL)\s+\S+\s+[\d.]+s|^Tests?:\s+\d+ (?:passed|failed)"
    r"|test result: (?:ok|FAILED)|^\s*\d+ (?:passing|failing)\b|^\S+::\S+ (?:PASSED|FAILED|ERROR)",
    re.M,
)
_LOG_LINE = re.compile(
    r"\b(?:INFO|WARN|WARNING|ERROR|DEBUG|TRACE|FATAL|CRITICAL)\b|^\[?\d{4}-\d\d-\d\d[T ]\d\d:\d\d"
    r"|^\[?\d\d:\d\d:\d\d|^\s*(?:Compiling|Downloading|Installing|Building|Collecting|Running) "
    r"|^(?:npm|yarn) (?:WARN|ERR)|^Traceback \(most recent call last\)|^\s*(?:warning|error)(?:\[\w+\])?: "
)


def _body(text: str) -> str:
    """The command output inside mini-swe-agent's ``<returncode>`` wrapper (its head, when the
    agent cut it short), else the text."""
    if text.startswith("<returncode>"):
        match = _WRAPPED.match(text[:_SAMPLE_CHARS]) or _CUT.match(text[:_SAMPLE_CHARS])
        if match:
            return match[1]
    return text


def _is_json(text: str) -> bool:
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{" or stripped[-1] not in "]}":
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True


def _share(lines: list[str], test) -> float:
    return sum(1 for line in lines if test(line)) / len(lines) if lines else 0.0


def _looks_numbered(lines: list[str]) -> bool:
    return len(lines) >= 2 and _share(lines[:20], _NUMBERED_LINE.match) >= 0.8


def _is_grep_line(line: str) -> bool:
    match = _GREP_LINE.match(line)
    if not match:
        return False
    path = match["path"]
    return ("/" in path or "." in path) and not _DATE_LIKE.search(path)


def _is_plain_grep_line(line: str) -> bool:
    """``path:text``, what ``grep -r`` prints without ``-n``."""
    match = _PLAIN_GREP_LINE.match(line)
    return bool(match) and ("/" in match["path"] or "." in match["path"]) and not _DATE_LIKE.search(match["path"])


def _ran_grep(arguments: Any) -> bool:
    command = arguments.get("command") if isinstance(arguments, dict) else None
    return isinstance(command, str) and _GREP_COMMAND.search(command) is not None


def detect_kind(text: str, tool_name: str = "", arguments: Any = None) -> str:
    """One of KINDS for this tool output."""
    tool = tool_name.lower().rsplit("__", 1)[-1]
    if tool in _READ_TOOLS:
        return "file_read"
    if tool in _SEARCH_TOOLS:
        return "search"
    body = _body(text)
    if _is_json(body):
        return "json"
    sample = body[:_SAMPLE_CHARS]
    lines = [line for line in sample.split("\n", _SAMPLE_LINES)[:_SAMPLE_LINES] if line.strip()]
    if not lines:
        return "text"
    if _DIFF.search(sample) and (sample.lstrip().startswith("diff ") or re.search(r"^\+\+\+ ", sample, re.M)):
        return "diff"
    if _looks_numbered(lines):
        return "file_read"
    if len(lines) >= 2 and _share(lines[:50], _is_grep_line) >= 0.7:
        return "search"
    if len(lines) >= 2 and _ran_grep(arguments) and _share(lines[:50], _is_plain_grep_line) >= 0.7:
        return "search"
    if _TEST.search(sample):
        return "test"
    if "\x1b[" in sample or (len(lines) >= 5 and _share(lines, _LOG_LINE.search) >= 0.3):
        return "log"
    return "text"
