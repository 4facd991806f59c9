from __future__ import annotations

import pytest

from headroom_mitm.learn.normalize import (
    flags_of,
    normalize_message,
    normalize_tool,
    program_of,
    relativize,
    shell_command_of,
    simplify_command,
)


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("Bash", None, "bash"),
        ("shell", None, "bash"),
        ("exec_command", None, "bash"),
        ("local_shell", None, "bash"),
        ("run_terminal_cmd", None, "bash"),
        ("Read", None, "read"),
        ("read_file", None, "read"),
        ("str_replace_editor", {"command": "view", "path": "a.py"}, "read"),
        ("str_replace_editor", {"command": "str_replace", "path": "a.py"}, "edit"),
        ("str_replace_editor", {"command": "create", "path": "a.py"}, "write"),
        ("apply_patch", None, "edit"),
        ("Grep", None, "search"),
        ("SomethingNew", None, "somethingnew"),
    ],
)
def test_tool_names_from_every_agent_meet(name, arguments, expected):
    assert normalize_tool(name, arguments) == expected


def test_shell_command_is_found_in_each_agents_argument_shape():
    assert shell_command_of({"command": "ls -la"}) == "ls -la"
    assert shell_command_of({"command": ["bash", "-lc", "pytest -x"]}) == "pytest -x"
    assert shell_command_of({"cmd": "git status"}) == "git status"
    assert shell_command_of({"type": "exec", "command": ["ls", "a b"]}) == "ls 'a b'"


@pytest.mark.parametrize(
    ("command", "program"),
    [
        ("git push 2>&1", "git push"),
        ("cd /repo && git -C sub push --set-upstream origin x", "git push"),
        ("python -m pytest tests/a.py -q", "python -m pytest"),
        ("/usr/bin/python3 -m pytest x.py", "/usr/bin/python3 -m pytest"),
        ("python3 tests/runtests.py dbshell | tail -20", "python3 tests/runtests.py"),
        ("./bin/test sympy/x.py", "bin/test"),
        ("FOO=1 timeout 60 npm test", "npm test"),
        ("rm -rf build", "rm"),
        ("python -c 'print(1)'", "python -c"),
    ],
)
def test_program_is_what_ran_at_lesson_grain(command, program):
    assert program_of(command) == program


def test_simplify_drops_directory_changes_and_output_plumbing():
    assert simplify_command("cd /x/y && pytest -x 2>&1 | tail -20") == "pytest -x"
    assert flags_of("git push -u origin main") == ("-u",)


def test_messages_lose_paths_numbers_and_ids_but_keep_every_word():
    first = normalize_message("ls: cannot access '/testbed/django/db/x.py': No such file or directory")
    second = normalize_message("ls: cannot access 'tests/other/y.py': No such file or directory")
    assert first == second == "ls: cannot access <path>: No such file or directory"
    assert normalize_message("bash: line 1: pytest: command not found") == "bash: line <n>: pytest: command not found"
    # negations survive normalisation word for word
    assert "has no upstream branch" in normalize_message("fatal: The current branch x has no upstream branch.")
    assert "not" in normalize_message("error: pathspec 'x' did not match any file(s) known to git")
    assert normalize_message("commit 3f2a9c1d4e failed") == "commit <hash> failed"


def test_relativize_keeps_no_personal_path():
    text = relativize("cat /home/alice/code/app/src/main.py /home/alice/.cache/x", "/home/alice/code/app")
    assert text == "cat src/main.py <path>"
    assert "/Users/bob" not in relativize("ls /Users/bob/notes", None)


def test_home_paths_spelled_into_folder_names_are_personal_too():
    from headroom_mitm.learn.normalize import is_personal_path

    assert is_personal_path("/tmp/claude-1000/-home-alice-projects-app/tasks/x.output")
    assert not is_personal_path("/tmp/build/output.log")
