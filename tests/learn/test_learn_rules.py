"""Each rule of what `headroom learn` must learn, on real sessions from ../shared/data/traces."""

from __future__ import annotations

import subprocess

from learn_helpers import bash_session, require_traces

from headroom_mitm.learn.harness import REPLY_TOOL
from headroom_mitm.learn.importers import iter_transcripts, mini_swe_agent
from headroom_mitm.learn.mine import mine, select_patterns
from headroom_mitm.learn.records import chronological_key
from headroom_mitm.learn.write import render_line, render_lines, written_for


def _mine(*parts: tuple[str, ...]):
    paths = [require_traces(*part) for part in parts]
    records = [call for _, _, calls in iter_transcripts(paths) for call in calls]
    records.sort(key=chronological_key)
    return mine(records).patterns


def _runs(*instances: str) -> list[tuple[str, ...]]:
    return [("mini-swe-agent", f"{instance}.traj.json") for instance in instances]


def _lines(patterns, min_evidence: int = 2) -> list[tuple[str, str]]:
    return written_for(select_patterns(patterns, None, min_evidence))


# --- 1. scope by repository --------------------------------------------------------------------


def test_a_swe_bench_run_belongs_to_the_repository_in_its_instance_id():
    calls = list(mini_swe_agent.read(require_traces("mini-swe-agent", "sympy__sympy-18763.traj.json")))
    assert {call.project for call in calls} == {"sympy/sympy"}  # not /testbed, shared by every run


def test_the_test_runner_line_is_written_for_its_repository_only():
    patterns = _mine(*_runs("django__django-10973", "django__django-14373", "sympy__sympy-18763",
                            "sympy__sympy-19040", "sphinx-doc__sphinx-8638", "sphinx-doc__sphinx-9230"))
    runners = {p.scope: p.fix for p in patterns if p.kind == "test-command"}
    assert "runtests.py" in runners["django/django"]
    assert runners["sympy/sympy"].startswith("bin/test") and runners["sphinx-doc/sphinx"].startswith("pytest")
    lines = _lines(patterns)
    assert not [line for scope, line in lines if "runtests.py" in line and scope != "django/django"]


def _git(*args: str, cwd) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_worktrees_of_one_repository_are_one_project(tmp_path):
    main = tmp_path / "app"
    main.mkdir()
    _git("init", "-q", cwd=main)
    _git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "start", cwd=main)
    _git("worktree", "add", "-q", str(tmp_path / "app-feature"), cwd=main)
    push = [("git push", 128, "fatal: The current branch feature has no upstream branch."),
            ("git push --set-upstream origin feature", 0, "")]
    records = bash_session("s1", push, str(main)) + bash_session("s2", push, str(tmp_path / "app-feature"))
    [lesson] = [p for p in mine(records).patterns if p.trigger == "git push"]
    assert lesson.projects == [str(main)] and lesson.scope == str(main) and lesson.evidence == 2


def test_worktrees_in_a_log_from_another_machine_are_one_project():
    patterns = _mine(("claude-code",))
    [push] = [p for p in patterns if p.trigger == "git push"]
    # spotter-worktrees/spotter-gqc, -dov and -fum: three worktrees of spotter
    assert push.projects == ["/home/USER/projects/spotter"] and push.evidence == 3


# --- 2. fixes made between a failure and the same call passing ----------------------------------


def test_a_fix_the_error_names_is_learnt_from_the_commit_hook():
    patterns = _mine(("claude-code", "4d5611e5-241a-462a-8d15-5122611a9569.jsonl"))
    [hook] = [p for p in patterns if p.kind == "named-fix"]
    assert hook.trigger == "git commit" and [fix for fix, _ in hook.ranked_fixes] == ["mix format", "mix credo", "mix dialyzer"]
    line = render_line(hook)
    assert line.startswith("- Run `mix format`, `mix credo` and `mix dialyzer` before `git commit`")
    assert "Pre-commit validation failed" in line
    assert [line for _, line in _lines(patterns)] == [line]  # one session is enough when the error names the fix


def test_a_script_edited_to_create_its_tables_is_the_fix_for_no_such_table():
    patterns = _mine(*_runs("django__django-11087", "django__django-11964", "django__django-13590"))
    [tables] = [p for p in patterns if p.kind == "fix-between" and "no such table" in p.error]
    assert tables.scope == "django/django" and tables.evidence == 3
    assert "schema_editor.create_model" in tables.fix


def test_the_same_file_fixed_before_the_same_tests_pass():
    patterns = _mine(("claude-code", "258c7280-ae70-4798-800f-63464d01a85d.jsonl"),
                     ("claude-code", "8463c716-a2ea-4c14-9efa-87158ebd9f20.jsonl"))
    found = {p.error: p.fix for p in patterns if p.kind == "fix-between"}
    assert found["RuntimeError: no :secret_key_base configuration found in SpotterWeb.Endpoint."] == "edit config/test.exs"
    lazy = next(p for p in patterns if p.kind == "fix-between" and "lazy_html" in p.error)
    assert [fix for fix, _ in lazy.ranked_fixes] == ["edit mix.exs", "mix deps.get"]


def test_a_file_broken_by_an_in_place_edit_is_repaired():
    patterns = _mine(*_runs("django__django-12209", "sympy__sympy-13031"))
    [broken] = [p for p in patterns if p.kind == "fix-between" and "IndentationError" in p.error]
    assert broken.after_edit and broken.fix == "repair" and broken.scope == "all"  # two repositories
    assert render_line(broken).startswith("- After an in-place edit (`sed -i`), `python <script>` fails with")


def test_an_edit_that_is_the_work_itself_is_no_lesson():
    # red-green: the test fails, the code is changed, the test passes; in every session
    steps = [("python -m pytest tests/test_a.py", 1, "FAILED tests/test_a.py::test_x - AssertionError\n1 failed"),
             ("sed -i 's/a/b/' src/a.py", 0, ""),
             ("python -m pytest tests/test_a.py", 0, "1 passed")]
    records = [call for index in range(3) for call in bash_session(f"s{index}", steps)]
    assert [p.kind for p in mine(records).patterns] == ["test-command"]


# --- 3. the harness's own rejections ------------------------------------------------------------


def test_a_reply_the_harness_rejects_is_imported_as_a_failed_call():
    calls = list(mini_swe_agent.read(require_traces("mini-swe-agent", "astropy__astropy-14598.traj.json")))
    [rejected] = [call for call in calls if call.tool == REPLY_TOOL]
    assert rejected.is_error and rejected.arguments == {"actions": 2}
    assert rejected.output.startswith("Please always provide EXACTLY ONE action in triple backticks")
    assert calls[rejected.position] is rejected  # in its place among the commands


def test_a_command_the_harness_killed_is_a_failed_call():
    calls = list(mini_swe_agent.read(require_traces("mini-swe-agent", "matplotlib__matplotlib-13989.traj.json")))
    [killed] = [call for call in calls if "timed out" in call.output[:200]]
    assert killed.is_error and killed.exit_code is None
    assert killed.arguments == {"command": "pytest lib/matplotlib/tests/test_axes.py"}


def test_harness_rejections_are_learnt_as_rules_in_its_own_words():
    patterns = _mine(*_runs("astropy__astropy-14598", "django__django-10973", "sphinx-doc__sphinx-10466"))
    rules = {p.tool: p for p in patterns if p.kind == "harness"}
    assert rules["format"].evidence == 3 and rules["format"].scope == "all"
    assert "exactly one ```bash block" in render_line(rules["format"])
    assert "too long" in render_line(rules["too-long"]) and "`head`" in render_line(rules["too-long"])


def test_a_timeout_names_the_command_that_keeps_timing_out():
    patterns = _mine(*_runs("matplotlib__matplotlib-13989", "matplotlib__matplotlib-26208"))
    [slow] = [p for p in patterns if "timed out" in p.error]
    assert slow.command == "pytest lib/matplotlib/tests/test_axes.py" and "-k" in slow.fix


# --- 4. the real cause --------------------------------------------------------------------------


def test_the_system_python_lacking_pytest_is_the_lesson_not_pytest_missing():
    patterns = _mine(*_runs("sphinx-doc__sphinx-8638", "sphinx-doc__sphinx-9230"))
    [cause] = [p for p in patterns if p.missing == "pytest"]
    assert cause.interpreter == "/usr/bin/python3" and cause.fix.startswith("pytest")
    line = render_line(cause)
    assert line.startswith("- `/usr/bin/python3` is not the project's interpreter") and "not installed" not in line


def test_pytest_missing_everywhere_in_a_repository_is_said_so():
    patterns = _mine(*_runs("sympy__sympy-18763", "sympy__sympy-19040"))
    [missing] = [p for p in patterns if p.missing == "pytest"]
    assert missing.interpreter is None and missing.fix.startswith("bin/test")
    assert render_line(missing).startswith("- `pytest` is not installed here")


# --- 5. concrete facts, never bad advice ---------------------------------------------------------


def test_a_wrong_path_that_recurs_is_written_as_the_fact():
    patterns = _mine(*_runs("sphinx-doc__sphinx-8638", "sphinx-doc__sphinx-9230"))
    lines = [line for _, line in _lines(patterns)]
    assert any(line.startswith("- `tests/test_domain_python.py` does not exist") and "`tests/test_domain_py.py`" in line for line in lines)
    assert not [line for line in lines if "check that it exists" in line]


def test_a_wrong_path_seen_once_is_no_lesson():
    patterns = _mine(*_runs("sphinx-doc__sphinx-8638"))
    assert not [p for p in select_patterns(patterns, None, 1) if p.kind == "fix-arguments"]


def test_removing_a_scratch_file_that_is_gone_is_no_mistake():
    # django-14631 ends with `rm` of scripts it had already removed
    patterns = _mine(*_runs("django__django-14631", "django__django-15525", "psf__requests-1921"))
    assert not [p for p in patterns if p.trigger == "rm"]


def test_forcing_past_a_check_and_branch_names_are_never_written():
    patterns = _mine(("claude-code",))
    lines = render_lines(select_patterns(patterns, None, 1), limit=50)
    ignored = [line for line in lines if "ignored by one of your .gitignore" in line]
    assert ignored and "leave `priv/static/assets` out" in ignored[0]
    text = "\n".join(lines)
    for never in (" -f", "--force", "--no-verify", "rm -rf", "spotter-gqc", "spotter-dov", "spotter-fum", "/home/"):
        assert never not in text


# --- 6. ranked and short ------------------------------------------------------------------------


def test_lines_are_ranked_by_sessions_then_by_what_they_cost():
    cheap = [("yarn test", 127, "bash: yarn: command not found"), ("npm test", 0, "Tests: 1 passed")]
    costly = [("pnpm test", 127, "bash: pnpm: command not found"), ("ls", 0, "package.json"),
              ("cat package.json", 0, "{}"), ("npm test", 0, "Tests: 1 passed")]
    common = [("bun test", 127, "bash: bun: command not found"), ("npm test", 0, "Tests: 1 passed")]
    records = [call for i in range(2) for call in bash_session(f"cheap{i}", cheap)]
    records += [call for i in range(2) for call in bash_session(f"costly{i}", costly)]
    records += [call for i in range(3) for call in bash_session(f"common{i}", common)]
    chosen = [p for p in select_patterns(mine(records).patterns, None, 2) if p.kind != "test-command"]
    lines = render_lines(chosen)
    assert [line.split(" is not")[0] for line in lines] == ["- `bun`", "- `pnpm`", "- `yarn`"]
    assert "(seen in 2 sessions, 6 turns lost)" in lines[1] and "(seen in 2 sessions)" in lines[2]
    assert render_lines(chosen, limit=2) == lines[:2]
