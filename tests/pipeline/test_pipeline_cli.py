"""``headroom compress``: a body in, the compressed body out; JSONL batches keep every line."""

from __future__ import annotations

import io
import json
import sys

import pytest

from headroom_mitm.rules import loader as rules_loader
from headroom_mitm.addon.cli import main
from headroom_mitm.addon.cli.compress import BodyError, guess_format
from pipeline_fakes import REGISTRY, RULES, anthropic_body

SPACED = "a    b    c\n" * 40


@pytest.fixture
def rules_file(tmp_path, monkeypatch):
    monkeypatch.setattr(rules_loader, "compressor_registry", lambda: dict(REGISTRY))
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return str(path)


def chat_body(output: str) -> dict:
    return {"model": "gpt-x", "messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "bash", "arguments": "{\"command\": \"ls\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": output}]}


def run_cli(argv, stdin_text, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin_text))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_one_body_from_stdin(rules_file, monkeypatch, capsys):
    code, out, err = run_cli(["compress", "--rules", rules_file], json.dumps(anthropic_body([("Bash", {}, SPACED)])),
                             monkeypatch, capsys)
    assert code == 0, err
    assert json.loads(out)["messages"][2]["content"][0]["content"] == "a b c\n" * 40


def test_jsonl_keeps_order_and_passes_a_broken_line_through(rules_file, tmp_path, monkeypatch, capsys):
    lines = [json.dumps(chat_body(SPACED)), '{"messages": [broken', json.dumps(anthropic_body([("Bash", {}, SPACED)]))]
    source = tmp_path / "bodies.jsonl"
    source.write_text("\n".join(lines) + "\n")
    code, out, err = run_cli(["compress", "--jsonl", "--rules", rules_file, str(source)], "", monkeypatch, capsys)
    out_lines = out.split("\n")
    assert out_lines[3] == "" and len(out_lines) == 4
    assert json.loads(out_lines[0])["messages"][2]["content"] == "a b c\n" * 40
    assert out_lines[1] == lines[1]
    assert json.loads(out_lines[2])["messages"][2]["content"][0]["content"] == "a b c\n" * 40
    assert "line 2: not JSON" in err and "written unchanged" in err
    assert code == 1


def test_a_bad_single_body_is_written_back_unchanged(rules_file, monkeypatch, capsys):
    code, out, err = run_cli(["compress", "--rules", rules_file], "[1, 2]", monkeypatch, capsys)
    assert (code, out) == (1, "[1, 2]") and "not a JSON object" in err


def test_a_bad_rule_file_stops_before_reading_input(tmp_path, monkeypatch, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("rules:\n  - compress: nothing\n")
    code, out, err = run_cli(["compress", "--rules", str(path)], "{}", monkeypatch, capsys)
    assert code == 2 and out == "" and f"{path}:2: unknown compressor 'nothing'" in err


@pytest.mark.parametrize("body, expected", [
    ({"system": "s", "messages": []}, "anthropic"),
    ({"messages": [{"role": "system", "content": "s"}]}, "openai-chat"),
    ({"model": "claude-x", "messages": [{"role": "user", "content": "hi"}]}, "anthropic"),
    ({"model": "gpt-x", "messages": [{"role": "user", "content": "hi"}]}, "openai-chat"),
    ({"model": "gpt-x", "input": "hi"}, "openai-responses"),
    ({"contents": []}, "gemini"),
])
def test_the_format_is_guessed_from_the_body(body, expected):
    assert guess_format(body) == expected


def test_a_body_of_no_known_shape_says_to_pass_provider():
    with pytest.raises(BodyError, match="--provider"):
        guess_format({"prompt": "hi"})
