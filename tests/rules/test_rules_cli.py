"""``headroom rules check`` and ``headroom rules explain`` as a person uses them."""

from __future__ import annotations

import json

import pytest

from headroom_mitm.rules import loader as rules_loader
from headroom_mitm.addon.cli import main
from rules_fakes import FAKE_REGISTRY, write


@pytest.fixture(autouse=True)
def fake_registry(monkeypatch):
    monkeypatch.setattr(rules_loader, "compressor_registry", lambda: dict(FAKE_REGISTRY))


def test_check_a_good_file(tmp_path, capsys):
    path = write(tmp_path, "rules:\n  - kind: json\n    compress: json_table\n")
    assert main(["rules", "check", path]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: ok: 1 rules")


def test_check_a_bad_file_prints_each_problem_with_its_line(tmp_path, capsys):
    path = write(tmp_path, "rules:\n  - kind: jsn\n    compress: json_table\n  - compress: gzip\n")
    assert main(["rules", "check", path]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{path}:2: ") and "unknown kind 'jsn'" in err[0]
    assert err[1].startswith(f"{path}:4: ") and "unknown compressor 'gzip'" in err[1]
    assert err[2] == f"{path}: 2 problems"


def test_check_json(tmp_path, capsys):
    path = write(tmp_path, "rules:\n  - compress: gzip\n")
    assert main(["rules", "check", "--json", path]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False and result["errors"][0]["line"] == 2


def test_explain_shows_the_rule_and_tokens_of_each_output(tmp_path, capsys):
    rules_path = write(tmp_path, "rules:\n  - name: all-bash\n    tool: Bash\n    compress: dedupe\n")
    body = {
        "model": "claude-x", "system": "s",
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "a.py\nb.py\n"}]},
        ],
    }
    body_path = write(tmp_path, json.dumps(body), "body.json")
    assert main(["rules", "explain", "--rules", rules_path, "--json", body_path]) == 0
    result = json.loads(capsys.readouterr().out)
    (row,) = result["outputs"]
    assert (row["tool"], row["rule"], row["compressor"]) == ("Bash", "rules.yaml:2 (all-bash)", "dedupe")
    assert row["tokens_before"] > 0 and row["tokens_after"] == row["tokens_before"]
    assert main(["rules", "explain", "--rules", rules_path, body_path]) == 0
    table = capsys.readouterr().out
    assert "rules.yaml:2 (all-bash)" in table and "1 tool outputs (anthropic, cache mode)" in table
