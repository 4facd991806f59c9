"""mini-swe-agent's `<returncode>`/`<output>` framing said in one marker line."""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from headroom_mitm.addon.compress import REGISTRY, parse_marker, run
from headroom_mitm.addon.pipeline import compress_body
from headroom_mitm.addon.providers import by_name
from headroom_mitm.addon.tokens import count_tokens
from headroom_mitm.rules import load_rules

FRAMED = "<returncode>2</returncode>\n<output>\nls: cannot access 'missing': No such file or directory\n</output>"


def test_framing_becomes_one_marker_line_with_the_exit_code_first():
    result = run("exit_status", FRAMED).text
    first, rest = result.split("\n", 1)
    assert parse_marker(first).kind == "exit" and parse_marker(first).detail == "2"
    assert rest == "ls: cannot access 'missing': No such file or directory\n"
    assert count_tokens(result) < count_tokens(FRAMED) - 5
    assert REGISTRY["exit_status"].restore(result) == FRAMED


def test_an_empty_output_is_the_marker_alone():
    framed = "<returncode>0</returncode>\n<output>\n</output>"
    assert run("exit_status", framed).text == "[headroom: exit 0]"
    assert REGISTRY["exit_status"].restore("[headroom: exit 0]") == framed


def test_an_output_cut_short_by_the_agent_keeps_its_framing():
    cut = ("<returncode>0</returncode>\n<warning>\nThe output of your last command was too long.\n</warning>"
           "<output_head>\na\n</output_head>\n<elided_chars>\n10 characters elided\n</elided_chars>\n"
           "<output_tail>\nb\n</output_tail>")
    assert run("exit_status", cut).text == cut


def test_anything_but_the_exact_framing_is_left_alone():
    for text in ["plain output", "<returncode>0</returncode><output>x</output>",
                 "<returncode>0</returncode>\n<output>\nx\n</output>\ntrailing", "[headroom: exit 0]\nx"]:
        assert run("exit_status", text).text == text


def _one_bash_call(command: str, output: str) -> tuple[str, dict]:
    body = {"model": "m", "messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "bash", "arguments": json.dumps({"command": command})}}]},
        {"role": "tool", "tool_call_id": "c1", "content": output}]}
    raw = json.dumps(body)
    return raw, json.loads(raw)


def test_the_shipped_rules_unframe_an_output_after_compressing_what_is_inside():
    rows = json.dumps([{"id": i, "name": f"user{i}", "active": i % 2 == 0} for i in range(30)])
    raw, doc = _one_bash_call("curl -s api/users", f"<returncode>0</returncode>\n<output>\n{rows}\n</output>")
    outcome = compress_body(raw, doc, by_name("openai-chat"), load_rules(None), lossy=True)
    sent = outcome.outputs[0].text
    assert sent.startswith("[headroom: json_table")  # found inside the tags, then the tags went
    assert "returncode" not in sent and "[headroom: exit" not in sent
    assert outcome.originals  # the framed original is kept


def test_the_shipped_rules_say_every_failure_and_every_file_read_s_exit_code():
    failing = "<returncode>2</returncode>\n<output>\nls: cannot access 'x': No such file or directory\n</output>"
    numbered = "\n".join(f"{n:>6}\tline number {n} of the file" for n in range(1, 40))
    for command, output, expected in [("ls x", failing, "[headroom: exit 2]\n"),
                                      ("cat -n setup.py", f"<returncode>0</returncode>\n<output>\n{numbered}\n</output>",
                                       "[headroom: exit 0]\n[headroom: lines numbered 1-39 tab]\n")]:
        raw, doc = _one_bash_call(command, output)
        sent = compress_body(raw, doc, by_name("openai-chat"), load_rules(None)).outputs[0].text
        assert sent.startswith(expected)


def test_quiet_success_sends_a_succeeding_command_s_output_alone():
    framed = "<returncode>0</returncode>\n<output>\nall 12 tests passed\n</output>"
    result = run("exit_status", framed, {"quiet_success": True})
    assert result.text == "all 12 tests passed\n" and result.originals == (framed,)
    assert run("exit_status", FRAMED, {"quiet_success": True}).text.startswith("[headroom: exit 2]\n")
    empty = "<returncode>0</returncode>\n<output>\n</output>"
    assert run("exit_status", empty, {"quiet_success": True}).text == "[headroom: exit 0]"
    assert not REGISTRY["exit_status"].is_lossless({"quiet_success": True})
    assert REGISTRY["exit_status"].is_lossless({}) and REGISTRY["exit_status"].is_lossless(None)


@settings(max_examples=200, deadline=None)
@given(st.integers(-300, 300), st.text(max_size=80))
def test_any_framed_output_restores_exactly(code, body):
    framed = f"<returncode>{code}</returncode>\n<output>\n{body}</output>"
    result = run("exit_status", framed).text
    assert REGISTRY["exit_status"].restore(result) == framed
    assert len(result) < len(framed)
