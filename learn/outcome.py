"""What happened to one tool call: did it fail, and is that failure something to learn from?

A failure is the provider's error flag, a non-zero exit code, or (when neither says) output that
shows one. Some failures are not mistakes: the user said no, a sibling call failed, a search
found nothing, tests failed the way red-green work expects them to.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import cached_property, lru_cache
from typing import Any

from headroom_mitm.learn.normalize import (
    normalize_message,
    normalize_tool,
    parse_arguments,
    program_of,
    shell_command_of,
    simplify_command,
    strip_ansi,
)
from headroom_mitm.learn.records import CallRecord


class Outcome(str, Enum):
    OK = "ok"
    FAILED = "failed"
    TESTS_FAILED = "tests_failed"  # the runner worked; tests in it did not
    IGNORED = "ignored"  # neither success nor a mistake (rejected by the user, a sibling failed)


_NOT_A_MISTAKE = (
    "The user doesn't want to proceed with this tool use",
    "[Request interrupted by user",
    "User rejected tool use",
    "Sibling tool call errored",
    "The output of your last command was too long",
    "<warning>The output of your last command was too long",
)
_FAILURE_TEXT = re.compile(
    r"command not found|No such file or directory|ModuleNotFoundError|No module named|"
    r"^fatal: |^error: |^Error: |^ERROR: |Traceback \(most recent call last\)|"
    r"cannot access|can't open file|Permission denied|SyntaxError|"
    r"Your proposed edit has introduced new syntax error|is not recognized as an internal",
    re.M,
)
_SEARCHES = re.compile(r"(?:^|[|;&]\s*|\s)(?:grep|egrep|fgrep|rg|ag|ack|git grep)\b")
_QUIET_EXIT_ONE = {"diff", "cmp", "test", "[", "[["}
# test runners, matched against what a command runs (``program_of``), never its arguments
_TEST_RUNNER = re.compile(
    r"(?:^|/|\s)(?:pytest|py\.test|runtests\.py|tox|nox|jest|vitest|mocha|rspec|phpunit)$|/test$|"
    r"-m [\w.]*test\w*$|^(?:\S*/)?(?:mix|go|cargo|npm|yarn|pnpm|bun|dotnet|deno|swift|make|"
    r"rake|gradle|mvn) test$|manage\.py$"
)
_TESTS_RAN = re.compile(
    r"\b\d+ (?:failed|failures?|errors?)\b|^FAILED \(|^FAIL:|^ERROR: test|^=+ FAILURES =+|"
    r"\btests? failed\b|^\s*\d+\) test |AssertionError|\bRan \d+ tests?\b|^Tests:\s+\d+",
    re.M,
)


class CallView:
    """A tool call seen the way mining compares calls.

    Everything past the tool name is worked out on first use: most calls in a log never fail
    and are never compared with one, so their commands are never parsed.
    """

    def __init__(self, record: CallRecord) -> None:
        self.record = record
        raw = record.arguments
        self._raw_arguments = raw if isinstance(raw, str) else None
        self.tool = _tool_of(record.tool, raw)

    @cached_property
    def arguments(self) -> Any:
        return parse_arguments(self.record.arguments)

    @cached_property
    def command(self) -> str:
        """The simplified command line for bash-like calls, else a short view of the arguments."""
        if self.tool == "bash":
            return simplify_command(shell_command_of(self.arguments))
        return _argument_view(self.arguments)

    @cached_property
    def program(self) -> str:
        """What ran, at lesson grain ("git push", "python -m pytest"); the tool's own name otherwise."""
        if self.tool == "bash":
            return program_of(self.command) or self.tool
        return self.record.tool.strip() or self.tool

    @cached_property
    def outcome(self) -> Outcome:
        record = self.record
        # Anthropic's is_error is authoritative; elsewhere an unknown exit status is read from the text
        return classify(self, record.output or "", record.is_error, record.exit_code, record.provider != "anthropic")

    @cached_property
    def raw_error(self) -> str:
        """The error line as the output had it ("" unless the call failed)."""
        if self.outcome not in (Outcome.FAILED, Outcome.TESTS_FAILED):
            return ""
        return error_line(self.record.output or "")

    @cached_property
    def signature(self) -> str:
        """The normalised error line."""
        return normalize_message(self.raw_error) if self.raw_error else ""

    def may_run_tests(self) -> bool:
        """A cheap look at the raw arguments before parsing them."""
        if self._raw_arguments is not None and not _MAYBE_TESTS.search(self._raw_arguments):
            return False
        return test_segment(self.command) is not None


@lru_cache(maxsize=4096)
def _tool_name(name: str) -> str:
    return normalize_tool(name)


def _tool_of(name: str, raw_arguments: Any) -> str:
    lowered = (name or "").lower()
    if lowered in ("str_replace_editor", "str_replace_based_edit_tool"):
        return normalize_tool(name, parse_arguments(raw_arguments))
    return _tool_name(name)


def is_test_command(command: str) -> bool:
    return test_segment(command) is not None


# a cheap look before the real one: most commands mention nothing like a test runner
_MAYBE_TESTS = re.compile(r"test|tox|nox|jest|mocha|rspec|phpunit|manage\.py")


@lru_cache(maxsize=65536)
def test_segment(command: str) -> str | None:
    """The part of a command list that runs tests (``mix compile && mix test x`` -> ``mix test x``)."""
    if not _MAYBE_TESTS.search(command):
        return None
    for segment in re.split(r"\s*(?:&&|\|\||;|\|)\s*", command):
        if re.search(r"(?:^|\s)(?:--version|--help)\b", segment):
            continue
        program = program_of(segment)
        if program.endswith("manage.py") and " test" not in segment:
            continue
        if _TEST_RUNNER.search(program):
            return segment.strip()
    return None


def _argument_view(arguments: object) -> str:
    if isinstance(arguments, dict):
        for key in ("file_path", "path", "pattern", "command", "url", "query"):
            if arguments.get(key):
                return str(arguments[key]).strip().splitlines()[0][:200]
    return ""


def view_of(record: CallRecord) -> CallView:
    return CallView(record)


_NOT_A_MISTAKE_TEXT = re.compile("|".join(re.escape(marker) for marker in _NOT_A_MISTAKE))


def classify(view: CallView, output: str, is_error: bool, exit_code: int | None, read_text: bool = True) -> Outcome:
    if _NOT_A_MISTAKE_TEXT.search(output, 0, 400):
        return Outcome.IGNORED
    failed = bool(is_error) or (exit_code not in (None, 0))
    if not failed and read_text and exit_code is None and view.tool in ("bash", "edit", "write"):
        failed = _shows_failure(output)
    if not failed:
        return Outcome.OK
    body = output_body(output)
    if exit_code == 1 and not body.strip():
        if _SEARCHES.search(view.command) or view.program.split()[0] in _QUIET_EXIT_ONE:
            return Outcome.OK  # a search that found nothing is an answer, not a mistake
    if view.tool == "search" and re.search(r"^No (?:matches|files) found", body, re.M):
        return Outcome.OK
    if is_test_command(view.command) and _TESTS_RAN.search(body) and not _runner_broken(body):
        return Outcome.TESTS_FAILED
    return Outcome.FAILED


def _shows_failure(output: str) -> bool:
    """Failure markers near the start or end of an output whose exit status is unknown."""
    lines = output_body(output).strip().splitlines()
    edge = "\n".join(lines[:6] + lines[-6:])
    return bool(_FAILURE_TEXT.search(edge))


def _runner_broken(body: str) -> bool:
    """The test runner itself could not start (missing, bad path), as opposed to failing tests."""
    return bool(
        re.search(
            r"command not found|No module named (?:'?pytest|'?unittest)|file or directory not found|"
            r"can't open file|No such file or directory|ERROR: usage",
            body,
        )
    )


_WRAPPER_TAGS = re.compile(r"</?(?:returncode|output|output_head|output_tail|elided_chars)>")
_EXIT_LINE = re.compile(r"^(?:Exit code:? -?\d+|Process exited with code -?\d+|Wall time:.*|Output:)\s*$")


# errors show at the start or the end of an output; the middle of a long one is never read
EDGE_CHARS = 4000


def output_body(output: str) -> str:
    """The command's own output without harness wrappers (exit-code lines, XML-ish tags, JSON),
    cut to its first and last ``EDGE_CHARS`` characters."""
    text = output
    if text.startswith('{"output"'):
        try:
            import json

            text = str(json.loads(text).get("output", text))
        except ValueError:
            pass
    if len(text) > 2 * EDGE_CHARS:
        text = text[:EDGE_CHARS] + "\n" + text[-EDGE_CHARS:]
    text = re.sub(r"^\s*<returncode>-?\d+</returncode>", "", text)
    text = _WRAPPER_TAGS.sub("", text)
    lines = [line for line in text.splitlines() if not _EXIT_LINE.match(line.strip())]
    return strip_ansi("\n".join(lines))


# the most telling line of an error output, most specific first
_ERROR_LINES = (
    re.compile(r"^.*\bcommand not found\b.*$", re.M),
    re.compile(r"^.*No module named .*$", re.M),
    re.compile(r"^(?:fatal|error|ERROR|Error): .*$", re.M),
    re.compile(r"^.*<tool_use_error>(.*?)</tool_use_error>.*$", re.M | re.S),
    re.compile(r"^- E\d+ .*$", re.M),  # SWE-agent's lint report of a rejected edit
    re.compile(r"^.*(?:No such file or directory|cannot access|can't open file|does not exist).*$", re.M),
    re.compile(r"^\s*\w*(?:Error|Exception): .*$", re.M),
    re.compile(r"^.*\b(?:EISDIR|ENOENT|EACCES|Permission denied)\b.*$", re.M),
    re.compile(r"^.*exceeds maximum allowed.*$", re.M),
)


def error_line(output: str, limit: int = 160) -> str:
    """One short line that says what went wrong."""
    body = output_body(output)
    for pattern in _ERROR_LINES:
        found = pattern.search(body)
        if found:
            line = found.group(1) if pattern.groups else found.group(0)
            return _shorten(line.strip(), limit)
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    return _shorten(lines[0], limit) if lines else ""


def _shorten(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
