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
from headroom_mitm.learn.shell_edits import doing_part, file_writes, run_part


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

    def __init__(self, record: CallRecord, project: str | None = None) -> None:
        self.record = record
        self.project = project if project is not None else record.project
        """The repository the call ran in (``learn.projects.repository_of``)."""
        raw = record.arguments
        self._raw_arguments = raw if isinstance(raw, str) else None
        self.tool = _tool_of(record.tool, raw)

    @cached_property
    def arguments(self) -> Any:
        return parse_arguments(self.record.arguments)

    @cached_property
    def raw_command(self) -> str:
        return shell_command_of(self.arguments) if self.tool == "bash" else ""

    @cached_property
    def command(self) -> str:
        """The simplified command line for bash-like calls (what it runs once the files it
        writes are written, without the steps that only prepare it), else a short view of the
        arguments."""
        if self.tool == "bash":
            raw = self.raw_command
            runs = run_part(raw)
            return simplify_command(doing_part(runs, self.record.output or "") if runs else raw)
        return _argument_view(self.arguments)

    @cached_property
    def writes(self) -> tuple[tuple[str, str | None], ...]:
        """(file, new content or None) for what the call wrote or edited."""
        if self.tool == "bash":
            return file_writes(self.raw_command)
        if self.tool in ("edit", "write") and isinstance(self.arguments, dict):
            path = self.arguments.get("file_path") or self.arguments.get("path")
            if isinstance(path, str) and path:
                content = self.arguments.get("content") if self.tool == "write" else None
                return ((path, content if isinstance(content, str) else None),)
        return ()

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
    def body(self) -> str:
        """The output without the harness's wrappers (``output_body``)."""
        return output_body(self.record.output or "")

    @cached_property
    def raw_error(self) -> str:
        """The error line as the output had it ("" unless the call failed)."""
        if self.outcome not in (Outcome.FAILED, Outcome.TESTS_FAILED):
            return ""
        return error_line_of(self.body)

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


def view_of(record: CallRecord, project: str | None = None) -> CallView:
    return CallView(record, project)


_TOO_LONG = re.compile(r"The output of your last command was too long")
_NOT_A_MISTAKE_TEXT = re.compile("|".join(re.escape(marker) for marker in _NOT_A_MISTAKE))


def classify(view: CallView, output: str, is_error: bool, exit_code: int | None, read_text: bool = True) -> Outcome:
    if _NOT_A_MISTAKE_TEXT.search(output, 0, 400):
        if exit_code is None or not _TOO_LONG.search(output, 0, 400):
            return Outcome.IGNORED
        # only the output was cut short: the call itself ran, and its exit status says how
        if exit_code == 0:
            return Outcome.OK
    failed = bool(is_error) or (exit_code not in (None, 0))
    if not failed and read_text and exit_code is None and view.tool in ("bash", "edit", "write"):
        failed = _shows_failure(output)
    if not failed:
        return Outcome.OK
    body = output_body(output)
    if view.program == "rm" and _NOTHING_TO_REMOVE.search(body):
        return Outcome.IGNORED  # cleaning up a file that is already gone is no mistake
    if exit_code == 1 and not body.strip():
        if _SEARCHES.search(view.command) or view.program.split()[0] in _QUIET_EXIT_ONE:
            return Outcome.OK  # a search that found nothing is an answer, not a mistake
    if view.tool == "search" and re.search(r"^No (?:matches|files) found", body, re.M):
        return Outcome.OK
    if is_test_command(view.command) and _TESTS_RAN.search(body) and not _runner_broken(body):
        return Outcome.TESTS_FAILED
    return Outcome.FAILED


_NOTHING_TO_REMOVE = re.compile(r"cannot remove .*No such file or directory|No such file or directory")


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
    if "\\n\\n" in text[:300]:
        # a hook's message relayed with its newlines escaped: read it as the lines it was
        first, _, rest = text.partition("\n")
        text = first.replace("\\n", "\n") + ("\n" + rest if rest else "")
    text = re.sub(r"^\s*<returncode>-?\d+</returncode>", "", text)
    text = _WRAPPER_TAGS.sub("", text)
    lines = [line for line in text.splitlines() if not _EXIT_LINE.match(line.strip())]
    return strip_ansi("\n".join(lines))


# a Python exception line; a traceback's last one is the error (earlier ones were its causes)
_PYTHON_ERROR = re.compile(r"^\s*[\w.]*(?:Error|Exception): .*$", re.M)

# the most telling line of an error output, most specific first; each with a plain substring
# that must be there first (a regex scan of every line of a long output is what costs)
_ERROR_LINES: tuple[tuple[tuple[str, ...] | str | None, re.Pattern[str]], ...] = (
    (("re-commit", "hook"), re.compile(r"^.*\b(?:[Pp]re-commit|hook)\b.*\b(?:failed|declined|rejected)\b.*$", re.M)),
    ("command not found", re.compile(r"^.*\bcommand not found\b.*$", re.M)),
    ("No module named", re.compile(r"^.*No module named .*$", re.M)),
    ("** (", re.compile(r"^\s*\*\* \((\w+(?:Error|Exception))\) (.*)$", re.M)),  # Elixir: ** (RuntimeError) ...
    (None, re.compile(r"^(?:fatal|error|ERROR|Error): .*$", re.M)),
    ("<tool_use_error>", re.compile(r"^.*<tool_use_error>(.*?)</tool_use_error>.*$", re.M | re.S)),
    ("- E", re.compile(r"^- E\d+ .*$", re.M)),  # SWE-agent's lint report of a rejected edit
    (None, re.compile(r"^.*(?:No such file or directory|cannot access|can't open file|does not exist).*$", re.M)),
    (None, _PYTHON_ERROR),
    (None, re.compile(r"^.*\b(?:EISDIR|ENOENT|EACCES|Permission denied)\b.*$", re.M)),
    ("exceeds maximum allowed", re.compile(r"^.*exceeds maximum allowed.*$", re.M)),
)


def error_line(output: str, limit: int = 160) -> str:
    """One short line that says what went wrong."""
    return error_line_of(output_body(output), limit)


def error_line_of(body: str, limit: int = 160) -> str:
    """:func:`error_line` of an output already through :func:`output_body`."""
    for guard, pattern in _ERROR_LINES:
        if guard is not None and not any(part in body for part in ((guard,) if isinstance(guard, str) else guard)):
            continue
        found = pattern.search(body)
        if found and pattern is _PYTHON_ERROR:
            *_, found = pattern.finditer(body)
        if found:
            line = ": ".join(found.groups()) if pattern.groups else found.group(0)
            return _shorten(_with_named_path(line.strip(), body, found.end()), limit)
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if not lines:
        return ""
    if lines[0].startswith("The last command <command>"):
        # mini-swe-agent's timeout names the command, which the call already says
        return _shorten(re.sub(r"^The last command <command>.*?</command>", "The command", lines[0]), limit)
    return _shorten(_with_named_path(lines[0], body, body.find(lines[0]) + len(lines[0])), limit)


def _with_named_path(line: str, body: str, end: int) -> str:
    """"The following paths are ignored by one of your .gitignore files:" says which on the
    next line: the line with its first path is the error."""
    if not line.endswith(":"):
        return line
    following = body[end:].lstrip("\n").split("\n", 1)[0].strip()
    if following and " " not in following and ("/" in following or "." in following):
        return f"{line} {following}"
    return line


def _shorten(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
