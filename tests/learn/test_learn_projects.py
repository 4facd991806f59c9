"""--project and --out: whose patterns are learnt, and where they are written."""

from __future__ import annotations

from learn_helpers import bash_session, store

from headroom_mitm.addon.cli import main

PUSH = [("git push", 128, "fatal: The current branch x has no upstream branch."), ("git push -u origin x", 0, "")]
YARN = [("yarn test", 127, "bash: yarn: command not found"), ("npm test", 0, "Tests: 3 passed")]


def _log(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    records = []
    records += bash_session("p1", PUSH, str(one)) + bash_session("p2", PUSH, str(two))
    records += bash_session("y1", YARN, str(one)) + bash_session("y2", YARN, str(one))
    db = str(tmp_path / "flows.db")
    store(db, records)
    return db, one, two


def test_project_all_writes_each_project_its_own_block(tmp_path, capsys):
    db, one, two = _log(tmp_path)
    assert main(["learn", db, "--project", "all", "--agents", "claude"]) == 0
    first, second = (one / "CLAUDE.md").read_text(), (two / "CLAUDE.md").read_text()
    assert "git push" in first and "git push" in second  # seen in both projects
    assert "`yarn` is not installed here (`yarn test` fails)" in first and "yarn" not in second
    assert str(tmp_path) not in first  # no absolute paths in the advice


def test_default_project_is_the_current_directory_even_from_a_subfolder(tmp_path, capsys, monkeypatch):
    db, one, two = _log(tmp_path)
    (one / "src").mkdir()
    monkeypatch.chdir(one / "src")
    assert main(["learn", db, "--agents", "codex"]) == 0
    assert "yarn test" in (one / "AGENTS.md").read_text()
    assert not (one / "src" / "AGENTS.md").exists() and not (two / "AGENTS.md").exists()


def test_min_evidence_and_the_removal_of_patterns_no_longer_supported(tmp_path, capsys):
    db, one, _ = _log(tmp_path)
    assert main(["learn", db, "--project", str(one), "--agents", "claude"]) == 0
    assert "yarn test" in (one / "CLAUDE.md").read_text()
    (one / "CLAUDE.md").write_text((one / "CLAUDE.md").read_text() + "\nMy own notes.\n")
    assert main(["learn", db, "--project", str(one), "--agents", "claude", "--min-evidence", "3"]) == 0
    assert (one / "CLAUDE.md").read_text() == "\nMy own notes.\n"
