"""Which calls count as failures worth learning from."""

from __future__ import annotations

from headroom_mitm.learn.outcome import Outcome, error_line, view_of
from headroom_mitm.learn.records import CallRecord


def _call(tool, arguments, output, *, is_error=False, exit_code=None, provider=None):
    return CallRecord("s", "/p", "", tool, arguments, output, is_error, 0, exit_code=exit_code, provider=provider)


def test_user_rejection_and_interruption_are_not_mistakes():
    rejected = _call(
        "Bash",
        {"command": "mix phx.server"},
        "The user doesn't want to proceed with this tool use. The tool use was rejected",
        is_error=True,
        provider="anthropic",
    )
    assert view_of(rejected).outcome is Outcome.IGNORED
    sibling = _call("Read", {"file_path": "a"}, "<tool_use_error>Sibling tool call errored</tool_use_error>", is_error=True)
    assert view_of(sibling).outcome is Outcome.IGNORED


def test_a_search_that_finds_nothing_is_not_a_failure():
    empty_grep = _call("bash", {"command": "grep -n 'def x' a.py"}, "<returncode>1</returncode>\n<output>\n</output>", exit_code=1)
    assert view_of(empty_grep).outcome is Outcome.OK
    piped = _call("bash", {"command": "pip list | grep mysql"}, "<returncode>1</returncode><output></output>", exit_code=1)
    assert view_of(piped).outcome is Outcome.OK
    broken_grep = _call("bash", {"command": "grep x missing.py"}, "<returncode>2</returncode>\n<output>\ngrep: missing.py: No such file or directory\n</output>", exit_code=2)
    assert view_of(broken_grep).outcome is Outcome.FAILED


def test_failing_tests_are_told_apart_from_a_broken_runner():
    red = _call(
        "bash",
        {"command": "python -m pytest tests/test_a.py"},
        "<returncode>1</returncode><output>=== FAILURES ===\nAssertionError\n1 failed, 3 passed</output>",
        exit_code=1,
    )
    assert view_of(red).outcome is Outcome.TESTS_FAILED
    missing = _call(
        "bash",
        {"command": "python -m pytest tests/test_a.py"},
        "<returncode>1</returncode><output>/usr/bin/python: No module named pytest</output>",
        exit_code=1,
    )
    assert view_of(missing).outcome is Outcome.FAILED


def test_unknown_exit_status_is_read_from_the_text_but_an_anthropic_flag_is_trusted():
    swe_agent = _call("bash", {"command": "cat nope.py"}, "cat: nope.py: No such file or directory")
    assert view_of(swe_agent).outcome is Outcome.FAILED
    claude_ok = _call("Bash", {"command": "ls x || true"}, "ls: x: No such file or directory", provider="anthropic")
    assert view_of(claude_ok).outcome is Outcome.OK


def test_error_line_is_the_telling_one():
    output = "Exit code 128\nfatal: The current branch b has no upstream branch.\nTo push the current branch..."
    assert error_line(output) == "fatal: The current branch b has no upstream branch."
    traceback = "Traceback (most recent call last):\n  File \"x.py\", line 1\nModuleNotFoundError: No module named 'yaml'"
    assert error_line(traceback) == "ModuleNotFoundError: No module named 'yaml'"


def test_what_counts_as_running_tests():
    from headroom_mitm.learn.outcome import is_test_command

    for command in ("pytest -x", "python -m pytest a.py", "./bin/test x", "python3 tests/runtests.py m", "npm test", "mix compile && mix test", "python manage.py test app"):
        assert is_test_command(command), command
    for command in ("test -f setup.py", "ls tests/", "grep -rn pytest .", "cat test_a.py", "pytest --version"):
        assert not is_test_command(command), command
