"""The writing contract on the files users really have: odd markers, CRLF, hand edits."""

from __future__ import annotations

import json

from learn_helpers import bash_session, store

from headroom_mitm.addon.cli import main
from headroom_mitm.learn.write import END, START, BlockError, apply_block, render_block

BLOCK = render_block(["- `git push` fails; `git push -u origin <branch>` worked instead (seen in 2 sessions)."])
OTHER = render_block(["- another lesson (seen in 3 sessions)."])
PUSH = [("git push", 128, "fatal: The current branch x has no upstream branch."), ("git push -u origin x", 0, "")]


def _log(tmp_path, *projects: str) -> str:
    db = str(tmp_path / "flows.db")
    records = []
    for project in projects:
        records += bash_session(f"{project}-1", PUSH, project) + bash_session(f"{project}-2", PUSH, project)
    store(db, records)
    return db


def test_two_managed_blocks_become_one():
    text = "intro\n\n" + BLOCK + "\nmiddle\n\n" + BLOCK
    updated = apply_block(text, OTHER)
    assert updated == "intro\n\n" + OTHER + "\nmiddle\n"
    assert updated.count(START) == 1 and updated.count(END) == 1


def test_a_start_marker_without_its_end_stops_with_the_file_and_line(tmp_path, capsys):
    project = tmp_path / "app"
    project.mkdir()
    mine = f"# Notes\n\n{START}\nMy own text that must survive.\nMore of it.\n"
    (project / "CLAUDE.md").write_text(mine)
    db = _log(tmp_path, str(project))
    assert main(["learn", db, "--project", str(project), "--agents", "claude"]) == 1
    error = capsys.readouterr().err
    assert f"{project / 'CLAUDE.md'}:3:" in error and "has no" in error
    assert (project / "CLAUDE.md").read_text() == mine  # nothing deleted, nothing written


def test_an_end_marker_without_its_start_is_refused_too():
    try:
        apply_block(f"notes\n{END}\n", BLOCK, where="AGENTS.md")
    except BlockError as error:
        assert str(error).startswith("AGENTS.md:2:")
    else:
        raise AssertionError("an orphan end marker was taken for a block")


def test_markers_quoted_in_prose_or_a_code_fence_are_the_users_text():
    text = (
        f"The block starts with `{START}` and ends with `{END}`.\n\n"
        f"```markdown\n{START}\nan example block\n{END}\n```\n"
    )
    updated = apply_block(text, BLOCK)
    assert updated == text + "\n" + BLOCK  # appended; the quoted and fenced markers untouched
    assert apply_block(updated, "") == text


def test_crlf_files_stay_crlf_block_included():
    text = "# Notes\r\n\r\nKeep CRLF.\r\n"
    updated = apply_block(text, BLOCK)
    assert updated.startswith(text)
    assert "\n" not in updated.replace("\r\n", "")  # every line ending is CRLF
    assert apply_block(updated, "") == text


def test_removing_the_block_leaves_the_users_text_byte_identical():
    for text in ("intro\n", "intro\n\n", "# a\n\nb\n\n\n", "x\r\ny\r\n"):
        assert apply_block(apply_block(text, BLOCK), "") == text
    # a block between the user's paragraphs
    assert apply_block("a\n\n" + BLOCK + "b\n", "") == "a\n\nb\n"


def test_unchanged_is_said_only_of_files_that_exist(tmp_path, capsys):
    project = tmp_path / "app"
    project.mkdir()
    db = _log(tmp_path, str(project))
    # nothing to write for a lesson needing more evidence than there is: no file, no "unchanged"
    assert main(["learn", db, "--project", str(project), "--min-evidence", "3"]) == 0
    out = capsys.readouterr().out
    assert "unchanged" not in out and not (project / "CLAUDE.md").exists()
    assert main(["learn", db, "--project", str(project), "--agents", "claude"]) == 0
    assert main(["learn", db, "--project", str(project), "--agents", "claude"]) == 0
    assert f"unchanged {project / 'CLAUDE.md'}" in capsys.readouterr().out


def test_a_cursor_rule_that_is_not_always_applied_is_warned_about(tmp_path, capsys):
    project = tmp_path / "app"
    rules = project / ".cursor" / "rules"
    rules.mkdir(parents=True)
    (rules / "headroom.mdc").write_text("---\ndescription: mine\nalwaysApply: false\n---\nMy rule.\n")
    db = _log(tmp_path, str(project))
    assert main(["learn", db, "--project", str(project), "--agents", "cursor"]) == 0
    err = capsys.readouterr().err
    assert "alwaysApply: false" in err and str(rules / "headroom.mdc") in err
    assert (rules / "headroom.mdc").read_text().startswith("---\ndescription: mine\nalwaysApply: false\n---\nMy rule.\n")


def test_every_project_gets_its_own_folder_under_out(tmp_path, capsys):
    db = _log(tmp_path, "/srv/one/api", "/srv/two/web")
    out = tmp_path / "out"
    assert main(["learn", db, "--project", "all", "--out", str(out), "--agents", "claude"]) == 0
    assert sorted(path.name for path in out.iterdir()) == ["api", "web"]
    assert "git push" in (out / "api" / "CLAUDE.md").read_text()
    assert not (out / "CLAUDE.md").exists()  # lessons of two repositories never share a file


def test_json_carries_each_patterns_project_and_scope(tmp_path, capsys):
    db = _log(tmp_path, "/srv/one/api")
    assert main(["learn", db, "--project", "all", "--json"]) == 0
    [push] = [p for p in json.loads(capsys.readouterr().out)["patterns"] if p["trigger"] == "git push"]
    assert push["projects"] == ["/srv/one/api"] and push["scope"] == "/srv/one/api"
