"""Mining: what the learner finds in real traces, and what it must leave out."""

from __future__ import annotations

from learn_helpers import bash_session, require_traces

from learn.importers import iter_transcripts
from learn.mine import mine, select_patterns


def _mine_paths(*paths):
    records = [call for _, _, calls in iter_transcripts(paths) for call in calls]
    records.sort(key=lambda call: (call.session_id, call.position))
    return mine(records).patterns


def _find(patterns, **fields):
    return [p for p in patterns if all(getattr(p, key) == value for key, value in fields.items())]


def test_mini_swe_agent_runs_missing_pytest_and_what_worked_instead():
    patterns = _mine_paths(require_traces("mini-swe-agent"))
    missing = [p for p in patterns if "No module named pytest" in p.error and p.evidence >= 2]
    assert {p.trigger for p in missing} >= {"python -m pytest", "/usr/bin/python3 -m pytest"}
    assert any(p.fix.startswith("bin/test") for p in missing)
    not_found = _find(patterns, trigger="pytest")
    assert any("command not found" in p.error and p.fix.startswith("bin/test") for p in not_found)
    # files that don't exist: removing them, running tests on them
    assert any(p.trigger == "rm" and "No such file or directory" in p.error and p.evidence >= 2 for p in patterns)
    assert any(p.trigger == "pytest" and "not found" in p.error and p.kind == "fix-arguments" for p in patterns)


def test_mini_swe_agent_test_command_that_works_here():
    patterns = _mine_paths(require_traces("mini-swe-agent"))
    tests = _find(patterns, kind="test-command")
    assert len(tests) == 1 and "tests/runtests.py" in tests[0].fix and tests[0].evidence >= 10


def test_claude_code_push_without_upstream_then_set_upstream():
    patterns = _mine_paths(require_traces("claude-code"))
    push = _find(patterns, trigger="git push")
    assert len(push) == 1
    assert "has no upstream branch" in push[0].error
    assert push[0].fix == "git push --set-upstream origin <branch>"
    assert push[0].evidence == 3 and push[0].scope == "all"  # three worktrees of the project


def test_claude_code_rejections_and_test_iterations_are_left_out():
    patterns = _mine_paths(require_traces("claude-code"))
    assert not [p for p in patterns if "doesn't want to proceed" in p.error or "Sibling" in p.error]
    # mix test went red and green again and again: the fix was in the code, not the command
    assert not [p for p in patterns if p.trigger == "mix test" and p.kind != "test-command"]


def test_swe_agent_rejected_edits_before_the_one_that_worked():
    patterns = _mine_paths(require_traces("swe-agent"))
    edits = _find(patterns, tool="edit")
    assert len(edits) == 1
    assert "SyntaxError: unmatched" in edits[0].error
    assert edits[0].fix == "edit 287:296" and edits[0].evidence == 1


def test_evidence_counts_sessions_not_repetitions():
    repeated = bash_session(
        "s1",
        [("pytest", 127, "bash: pytest: command not found")] * 5 + [("python -m pytest", 0, "3 passed")],
    )
    once_more = bash_session("s2", [("pytest", 127, "bash: pytest: command not found"), ("python -m pytest", 0, "ok")])
    patterns = mine(repeated + once_more).patterns
    lesson = _find(patterns, trigger="pytest")
    assert len(lesson) == 1 and lesson[0].evidence == 2 and lesson[0].fix == "python -m pytest"


def test_red_green_test_runs_and_empty_searches_teach_nothing():
    steps = [
        ("python -m pytest tests/test_a.py", 1, "FAILED tests/test_a.py::test_x - AssertionError\n1 failed"),
        ("sed -i 's/a/b/' src/a.py", 0, ""),
        ("python -m pytest tests/test_a.py", 0, "1 passed"),
        ("grep -rn 'nothing here' src", 1, ""),
        ("grep -rn 'def main' src", 0, "src/a.py:1:def main():"),
        ("python reproduce.py", 1, "Traceback (most recent call last):\nValueError: boom"),
        ("cat > reproduce.py <<'EOF'", 0, ""),
        ("python reproduce.py", 0, "fine"),
    ]
    sessions = [call for index in range(3) for call in bash_session(f"s{index}", steps)]
    patterns = mine(sessions).patterns
    assert [p.kind for p in patterns] == ["test-command"]


def test_patterns_are_scoped_to_their_project_unless_they_recur_across_projects():
    here = [
        call
        for session in ("a1", "a2")
        for call in bash_session(session, [("yarn test", 127, "bash: yarn: command not found"), ("npm test", 0, "ok")], "/src/one")
    ]
    everywhere = [
        call
        for index, project in enumerate(["/src/one", "/src/two"])
        for call in bash_session(f"b{index}", [("git push", 128, "fatal: The current branch x has no upstream branch."), ("git push -u origin x", 0, "")], project)
    ]
    patterns = mine(here + everywhere).patterns
    for_two = select_patterns(patterns, "/src/two", 2)
    assert [p.trigger for p in for_two] == ["git push"]
    for_one = {p.trigger for p in select_patterns(patterns, "/src/one", 2)}
    assert {"git push", "yarn test"} <= for_one
