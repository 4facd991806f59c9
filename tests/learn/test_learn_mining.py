"""Mining: what the learner finds in real traces, and what it must leave out."""

from __future__ import annotations

from learn_helpers import bash_session, require_traces

from headroom_mitm.learn.importers import iter_transcripts
from headroom_mitm.learn.mine import mine, select_patterns
from headroom_mitm.learn.records import chronological_key


def _mine_paths(*paths):
    records = [call for _, _, calls in iter_transcripts(paths) for call in calls]
    records.sort(key=chronological_key)
    return mine(records).patterns


def _find(patterns, **fields):
    return [p for p in patterns if all(getattr(p, key) == value for key, value in fields.items())]


def test_mini_swe_agent_runs_missing_pytest_and_what_worked_instead():
    patterns = _mine_paths(require_traces("mini-swe-agent"))
    missing = {p.scope: p for p in patterns if p.missing == "pytest"}
    # one lesson per repository, whichever way pytest was invoked there
    sympy = missing["sympy/sympy"]
    assert {"python -m pytest", "/usr/bin/python3 -m pytest", "pytest"} <= set(sympy.triggers)
    assert sympy.fix.startswith("bin/test") and sympy.fix_evidence >= 5 and sympy.interpreter is None
    # in sphinx the pytest on PATH worked: the system python is the cause, not a missing pytest
    assert missing["sphinx-doc/sphinx"].interpreter == "/usr/bin/python3"
    assert missing["sphinx-doc/sphinx"].fix.startswith("pytest")
    # removing files that are gone teaches nothing; a test file that is not there, twice, is a fact
    assert not [p for p in _find(patterns, trigger="rm") if p.advice]
    assert any(p.wrong == "tests/test_domain_python.py" and p.fix == "tests/test_domain_py.py" and p.advice for p in patterns)


def test_one_missing_program_is_one_lesson_with_the_sessions_of_every_invocation():
    steps = {
        "a": [("pytest tests/x.py", 127, "bash: line 1: pytest: command not found"), ("bin/test tests/x.py", 0, "ok")],
        "b": [("python -m pytest tests/y.py", 1, "/usr/bin/python: No module named pytest"), ("bin/test tests/y.py", 0, "ok")],
        "c": [("python3 -m pytest", 1, "/usr/bin/python3: No module named pytest"), ("./bin/test", 0, "ok")],
        # the same session twice over: still one session of evidence
        "d": [("pytest a.py", 127, "bash: pytest: command not found"), ("bin/test a.py", 0, "ok")] * 2,
    }
    records = [call for session, calls in steps.items() for call in bash_session(session, calls)]
    patterns = [p for p in mine(records).patterns if p.kind != "test-command"]
    assert len(patterns) == 1
    [lesson] = patterns
    assert lesson.missing == "pytest" and lesson.sessions == ["a", "b", "c", "d"]
    assert set(lesson.triggers) == {"pytest", "python -m pytest", "python3 -m pytest"}
    assert len(lesson.fixes) == 1 and lesson.fix.startswith("bin/test") and lesson.fix_evidence == 4


def test_rival_fixes_for_one_failure_are_ranked_in_one_pattern():
    broken = ("yarn test", 127, "bash: yarn: command not found")
    records = [call for i in range(3) for call in bash_session(f"npm{i}", [broken, ("npm test", 0, "Tests: 3 passed")])]
    records += [call for i in range(2) for call in bash_session(f"pnpm{i}", [broken, ("pnpm test", 0, "Tests: 3 passed")])]
    lessons = [p for p in mine(records).patterns if p.kind != "test-command"]
    assert len(lessons) == 1
    assert lessons[0].fixes == [("npm test", 3), ("pnpm test", 2)] and lessons[0].evidence == 5


def test_corrected_arguments_alone_are_not_advice_nor_is_cleaning_up():
    typo = [("python3 -c 'class A: pass; print(A)'", 1, "SyntaxError: invalid syntax"), ("python3 -c 'print(1)'", 0, "1")]
    cleanup = {
        "r1": [("rm out.txt", 1, "rm: cannot remove 'out.txt': No such file or directory"), ("rm -f out.txt", 0, "")],
        "r2": [("rm tmp/cache", 1, "rm: cannot remove 'tmp/cache': No such file or directory"), ("rm -rf tmp/cache", 0, "")],
    }
    wrong_path = [("ls src/nope", 2, "ls: cannot access 'src/nope': No such file or directory"), ("ls -la", 0, "a")]
    records = [call for i in range(3) for call in bash_session(f"t{i}", typo)]
    records += [call for session, calls in cleanup.items() for call in bash_session(session, calls)]
    records += [call for i in range(2) for call in bash_session(f"l{i}", wrong_path if i else [wrong_path[0], ("ls -F", 0, "a")])]
    patterns = mine(records).patterns
    assert select_patterns(patterns, None, 2) == []
    # still mined, and reported as data, just never written as advice
    assert any(p.trigger == "python3 -c" and not p.advice for p in patterns)
    assert not [p for p in patterns if p.trigger == "rm"]  # a file already gone is no mistake


def test_subagent_calls_are_read_in_the_order_they_happened(tmp_path):
    """A subagent's transcript numbers its calls from 0 again under its parent's session id:
    by position alone its calls land between the parent's, hiding the parent's recovery."""
    from datetime import timedelta

    from headroom_mitm.learn.log import open_log, read_calls
    from learn_helpers import START, store

    records = []
    for session in ("s1", "s2"):
        subagent = bash_session(session, [("ls", 0, "a"), ("ls", 0, "a"), ("ls", 0, "a"), ("pytest", 0, "3 passed")])
        parent = bash_session(
            session,
            [("ls", 0, "a"), ("ls", 0, "a"), ("ls", 0, "a"), ("pytest", 127, "bash: pytest: command not found"), ("python -m pytest", 0, "3 passed")],
        )
        for call in parent:
            call.seen_at = START + timedelta(hours=1, minutes=call.position)
        for call in subagent:
            call.call_id = f"sub{call.position}"
        records += parent + subagent
    db = str(tmp_path / "flows.db")
    store(db, records)
    engine = open_log(db)
    try:
        from_log = mine(read_calls(engine)).patterns
    finally:
        engine.dispose()
    in_memory = mine(sorted(records, key=chronological_key)).patterns
    by_position = mine(sorted(records, key=lambda call: (call.session_id, call.position))).patterns
    for patterns in (from_log, in_memory):
        lesson = [p for p in patterns if p.missing == "pytest"]
        assert lesson and lesson[0].fix == "python -m pytest" and lesson[0].evidence == 2
    assert not [p for p in by_position if p.missing == "pytest"]  # what the old order got wrong


def test_mini_swe_agent_test_command_that_works_in_each_repository():
    patterns = _mine_paths(require_traces("mini-swe-agent"))
    tests = {p.scope: p for p in _find(patterns, kind="test-command")}
    assert "tests/runtests.py" in tests["django/django"].fix and tests["django/django"].evidence >= 10
    assert tests["sympy/sympy"].fix.startswith("bin/test")
    assert tests["matplotlib/matplotlib"].fix.startswith("pytest")


def test_claude_code_push_without_upstream_then_set_upstream():
    patterns = _mine_paths(require_traces("claude-code"))
    push = _find(patterns, trigger="git push")
    assert len(push) == 1
    assert "has no upstream branch" in push[0].error
    assert push[0].fix == "git push --set-upstream origin <branch>"
    # three worktrees of one repository: one project
    assert push[0].evidence == 3 and push[0].scope == "/home/USER/projects/spotter"


def test_claude_code_rejections_and_test_iterations_are_left_out():
    patterns = _mine_paths(require_traces("claude-code"))
    assert not [p for p in patterns if "doesn't want to proceed" in p.error or "Sibling" in p.error]
    # mix test went red and green again and again: the fixes were in the code, not lessons;
    # what is learnt from mix test is the set-up the same tests needed in two sessions
    learnt = {p.error for p in patterns if p.trigger == "mix test" and p.kind != "test-command"}
    assert learnt == {
        "RuntimeError: no :secret_key_base configuration found in SpotterWeb.Endpoint.",
        "RuntimeError: Phoenix LiveView requires lazy_html as a test dependency.",
    }


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
        ("cat > reproduce.py <<'EOF'\nprint('fine')\nEOF", 0, ""),
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
