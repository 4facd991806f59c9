"""import -> learn through the real command line, on real databases."""

from __future__ import annotations

import json
from pathlib import Path

from learn_helpers import require_traces

from headroom_mitm.addon.cli import main
from headroom_mitm.addon.store.engine import make_engine
from headroom_mitm.addon.store.entries import FlowEntry, ToolCallEntry
from headroom_mitm.addon.store.persist import write_flow
from headroom_mitm.addon.store.schema import ensure_schema
from headroom_mitm.learn.importers import claude_code
from headroom_mitm.learn.write import END, START

CLAUDE_SESSIONS = (
    "258c7280-ae70-4798-800f-63464d01a85d.jsonl",
    "4d5611e5-241a-462a-8d15-5122611a9569.jsonl",
    "8463c716-a2ea-4c14-9efa-87158ebd9f20.jsonl",
)


def _run(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def _learn_json(capsys, target: str, *extra: str) -> list[dict]:
    return json.loads(_run(capsys, "learn", target, "--project", "all", "--json", *extra))["patterns"]


def test_import_then_learn_writes_idempotent_blocks(tmp_path, capsys, log_target):
    traces = require_traces()
    first = _run(capsys, "import", str(traces), "--db", log_target, "--json")
    counts = json.loads(first)
    assert counts["files"] > 100 and counts["calls_added"] > 4000 and counts["calls_already_present"] == 0
    again = json.loads(_run(capsys, "import", str(traces), "--db", log_target, "--json"))
    assert again["calls_added"] == 0 and again["calls_already_present"] == counts["calls_added"]

    out = tmp_path / "out"
    (out / "spotter").mkdir(parents=True)
    (out / "spotter" / "CLAUDE.md").write_text("# Notes\n\nDon't edit generated files.\n")
    table = _run(capsys, "learn", log_target, "--project", "all", "--out", str(out))
    assert "git push" in table and "wrote" in table
    # one folder per repository: the spotter worktrees are one, each SWE-bench repository its own
    assert {"spotter", "django__django", "sympy__sympy", "sphinx-doc__sphinx"} <= {p.name for p in out.iterdir()}
    claude = (out / "spotter" / "CLAUDE.md").read_text()
    assert claude.startswith("# Notes\n\nDon't edit generated files.\n")
    assert claude.count(START) == 1 and claude.count(END) == 1
    assert "`git push --set-upstream origin <branch>`" in claude and "runtests.py" not in claude
    sympy = (out / "sympy__sympy" / "CLAUDE.md").read_text()
    assert "`pytest` is not installed here" in sympy and "bin/test" in sympy and "runtests.py" not in sympy
    assert "runtests.py" in (out / "django__django" / "CLAUDE.md").read_text()
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "/home/" not in text and "/Users/" not in text and "/testbed" not in text
            assert len([line for line in text.splitlines() if line.startswith("- ")]) <= 12
    snapshot = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    second = _run(capsys, "learn", log_target, "--project", "all", "--out", str(out))
    assert "wrote" not in second
    assert snapshot == {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_dry_run_and_json_write_nothing(tmp_path, capsys):
    db = tmp_path / "flows.db"
    _run(capsys, "import", str(require_traces("claude-code")), "--db", str(db))
    out = tmp_path / "out"
    out.mkdir()
    diff = _run(capsys, "learn", str(db), "--project", "all", "--out", str(out), "--dry-run", "--agents", "claude")
    assert "+<!-- headroom:learn:start -->" in diff and "git push" in diff
    patterns = _learn_json(capsys, str(db))
    assert list(out.iterdir()) == []
    push = next(p for p in patterns if p["trigger"] == "git push")
    assert push["evidence"] == 3 and len(push["sessions"]) == 3
    assert push["first_seen"] < push["last_seen"]
    assert set(push) >= {"tool", "trigger", "error", "fix", "evidence", "sessions", "first_seen", "last_seen"}


def test_learn_defaults_to_the_current_project(tmp_path, capsys, monkeypatch):
    db = tmp_path / "flows.db"
    _run(capsys, "import", str(require_traces("mini-swe-agent")), "--db", str(db))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert json.loads(_run(capsys, "learn", str(db), "--json"))["patterns"] == []
    assert _learn_json(capsys, str(db))  # the same log has patterns for its repositories


def test_bad_input_is_a_clear_error(tmp_path, capsys):
    assert main(["learn", str(tmp_path / "missing.db")]) == 1
    assert "no flow log at" in capsys.readouterr().err
    assert main(["learn", str(tmp_path / "missing.db"), "--agents", "vim"]) == 1
    assert "--agents" in capsys.readouterr().err
    (tmp_path / "x.txt").write_text("not a transcript")
    assert main(["import", str(tmp_path / "x.txt"), "--db", str(tmp_path / "f.db")]) == 1
    assert "not a Claude Code" in capsys.readouterr().err


def _write_like_the_proxy(target: str, transcripts: list[Path]) -> None:
    """Every request repeats the whole conversation so far, as the proxy sees it."""
    engine = make_engine(target)
    ensure_schema(engine)
    for path in transcripts:
        calls = list(claude_code.read(path))
        for upto in range(1, len(calls) + 1):
            entry = FlowEntry(
                host="api.anthropic.com",
                provider="anthropic",
                session_id=calls[0].session_id,
                project=calls[0].project,
                tool_calls=[
                    ToolCallEntry(
                        session_id=call.session_id,
                        call_id=call.call_id,
                        tool=call.tool,
                        arguments=call.arguments,
                        output=call.output,
                        is_error=call.is_error,
                        provider="anthropic",
                        position=call.position,
                        project=call.project,
                        source="proxy",
                        seen_at=call.seen_at,
                    )
                    for call in calls[:upto]
                ],
            )
            with engine.begin() as connection:
                write_flow(connection, entry)
    engine.dispose()


def test_proxy_log_and_imported_transcripts_find_the_same_patterns(tmp_path, capsys):
    folder = require_traces("claude-code")
    transcripts = [folder / name for name in CLAUDE_SESSIONS]
    proxied, imported = str(tmp_path / "proxy.db"), str(tmp_path / "import.db")
    _write_like_the_proxy(proxied, transcripts)
    _run(capsys, "import", *map(str, transcripts), "--db", imported)
    from_proxy = _learn_json(capsys, proxied, "--min-evidence", "1")
    from_import = _learn_json(capsys, imported, "--min-evidence", "1")
    assert from_proxy == from_import
    push = next(p for p in from_proxy if p["trigger"] == "git push")
    assert push["evidence"] == 3  # not once per replayed request
    # importing the transcripts into the proxy's log adds nothing and changes no evidence
    merged = json.loads(_run(capsys, "import", *map(str, transcripts), "--db", proxied, "--json"))
    assert merged["calls_added"] == 0
    assert _learn_json(capsys, proxied, "--min-evidence", "1") == from_proxy


def test_notes_about_missing_folders_go_to_stderr_after_a_complete_table(tmp_path, capsys):
    from learn_helpers import bash_session, store

    db = str(tmp_path / "flows.db")
    steps = [("git push", 128, "fatal: The current branch x has no upstream branch."), ("git push -u origin x", 0, "")]
    store(db, bash_session("a", steps, "/nowhere/app") + bash_session("b", steps, "/nowhere/app"))
    assert main(["learn", db, "--project", "all", "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert captured.out.endswith("(seen in 2 sessions).\n")
    assert "/nowhere" not in captured.out
    assert captured.err == (
        "headroom learn: no diff for /nowhere/app: that folder does not exist here "
        "(1 lesson for it; use --out DIR to write them elsewhere)\n"
    )
