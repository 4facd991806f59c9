"""The managed block in CLAUDE.md, AGENTS.md and .cursor/rules/headroom.mdc."""

from __future__ import annotations

from datetime import datetime

from headroom_mitm.learn.mine import Pattern
from headroom_mitm.learn.write import END, START, apply_block, plan_changes, render_block, render_lines


def _pattern(trigger="git push", error="fatal: The current branch … has no upstream branch.", fix="git push -u origin <branch>", sessions=3, kind="use-instead", tool="bash"):
    return Pattern(
        kind=kind,
        tool=tool,
        trigger=trigger,
        error=error,
        fix=fix,
        sessions=[f"s{i}" for i in range(sessions)],
        projects=["/p"],
        first_seen=datetime(2026, 1, 1),
        last_seen=datetime(2026, 1, 2),
    )


def test_each_line_says_what_fails_what_works_and_the_evidence():
    [line] = render_lines([_pattern()])
    assert line == (
        '- `git push` fails with "fatal: The current branch … has no upstream branch."; '
        "`git push -u origin <branch>` worked instead (seen in 3 sessions)."
    )
    missing = _pattern("pytest", "bash: line <n>: pytest: command not found", "python -m pytest", 7)
    missing.missing, missing.triggers = "pytest", ["pytest", "python3 -m pytest"]
    assert render_lines([missing]) == [
        "- `pytest` is not installed here (`pytest`, `python3 -m pytest` fail); use `python -m pytest` instead (seen in 7 sessions)."
    ]


def test_rival_fixes_are_ranked_in_one_line_never_two_contradicting_ones():
    rivals = _pattern("pytest", "No module named pytest", "bin/test <file>", 15)
    rivals.missing, rivals.triggers = "pytest", ["python -m pytest", "pytest"]
    rivals.fixes = [("bin/test <file>", 8), ("pytest <file>", 4), ("python <file>", 1)]
    lines = render_lines([rivals])
    assert lines == [
        "- `pytest` is not installed here (`python -m pytest`, `pytest` fail); what worked instead: "
        "`bin/test <file>` (8 of 15 sessions), `pytest <file>` (4)."
    ]
    # a fix that worked in only one session is not offered, but the line does not overstate the other
    lonely = _pattern("make", "make: *** No rule to make target 'check'", "make test", 5)
    lonely.fixes = [("make test", 4), ("npm test", 1)]
    [line] = render_lines([lonely])
    assert "use `make test` instead (worked in 4 of 5 sessions)" in line and "npm" not in line


def test_arguments_that_were_merely_corrected_are_not_written():
    typo = _pattern("python3 -c", "SyntaxError: invalid syntax", "python3 -c <arg>", 4, kind="fix-arguments")
    typo.advice = False
    wrong_path = _pattern("pytest", "ERROR: file or directory not found: <path>", "tests/test_domain_py.py", 2, kind="fix-arguments")
    wrong_path.wrong = "tests/test_domain_python.py"
    assert render_lines([typo, wrong_path]) == [
        '- `tests/test_domain_python.py` does not exist (`pytest` fails with "ERROR: file or directory not found: '
        '<path>"); it is `tests/test_domain_py.py` (seen in 2 sessions).'
    ]


def test_a_diff_always_ends_its_last_line(tmp_path):
    (tmp_path / "CLAUDE.md").write_text("# Notes without a final newline")
    [change] = plan_changes(tmp_path, render_lines([_pattern()]), ["claude"])
    diff = change.diff()
    assert diff.endswith("\n") and "\\ No newline at end of file\n" in diff


def test_negations_are_kept_exactly():
    errors = [
        "error: pathspec <path> did not match any file(s) known to git",
        "Don't use --force here: refusing to update checked out branch",
        "fatal: not a git repository (or any of the parent directories): .git",
    ]
    lines = render_lines([_pattern(trigger=f"cmd{i}", error=error) for i, error in enumerate(errors)])
    for error, line in zip(errors, lines):
        assert error.replace('"', "'") in line


def test_block_is_capped_and_has_no_personal_paths():
    # ranked first, as its 50 sessions would rank it: only the filter keeps it out of the block
    personal = _pattern(trigger="cat", fix="cat /home/alice/secret/notes.txt", sessions=50)
    patterns = [personal] + [_pattern(trigger=f"tool{i}", sessions=20 - i) for i in range(20)]
    lines = render_lines(patterns, limit=12)
    assert len(lines) == 12
    assert not any("/home/alice" in line for line in lines)
    assert [line.split("`")[1] for line in lines] == [f"tool{i}" for i in range(12)]


def test_text_outside_the_block_never_changes(tmp_path):
    original = "# My project\r\n\r\nHand-written notes.\r\nDon't run the migrations by hand.\r\n"
    path = tmp_path / "CLAUDE.md"
    path.write_bytes(original.encode())
    [change] = plan_changes(tmp_path, render_lines([_pattern()]), ["claude"])
    change.apply()
    after_first = path.read_bytes()
    assert after_first.startswith(original.encode())
    # a later block with other lines replaces only the block
    [change] = plan_changes(tmp_path, render_lines([_pattern(sessions=4)]), ["claude"])
    change.apply()
    text = path.read_bytes().decode()
    assert text.startswith(original) and "seen in 4 sessions" in text and "seen in 3 sessions" not in text
    # text added after the block by hand survives too
    path.write_text(text + "\nMore notes after.\n", newline="")
    [change] = plan_changes(tmp_path, render_lines([_pattern(sessions=5)]), ["claude"])
    change.apply()
    assert path.read_bytes().decode().endswith("\nMore notes after.\n")


def test_same_patterns_leave_files_byte_identical(tmp_path):
    lines = render_lines([_pattern(), _pattern("pytest", "pytest: command not found", "bin/test <file>", 2)])
    for change in plan_changes(tmp_path, lines, ["claude", "codex", "cursor"]):
        change.apply()
    snapshot = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    again = plan_changes(tmp_path, lines, ["claude", "codex", "cursor"])
    assert not any(change.changed for change in again)
    assert snapshot == {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}


def test_cursor_rule_has_frontmatter_and_a_pattern_no_longer_supported_leaves(tmp_path):
    [change] = plan_changes(tmp_path, render_lines([_pattern()]), ["cursor"])
    change.apply()
    rule = (tmp_path / ".cursor" / "rules" / "headroom.mdc").read_text()
    assert rule.startswith("---\n") and "alwaysApply: true" in rule and START in rule
    [change] = plan_changes(tmp_path, [], ["cursor"])
    change.apply()
    assert not (tmp_path / ".cursor" / "rules" / "headroom.mdc").exists()


def test_removing_the_block_keeps_the_rest():
    existing = "intro\n\n" + render_block(["- a line"]) + "outro\n"
    assert apply_block(existing, "") == "intro\n\noutro\n"
    assert START not in apply_block(existing, "") and END not in apply_block(existing, "")
    assert apply_block(None, "") is None
