"""Lossy, ref-carrying compression only where the model can follow the ref back."""

from __future__ import annotations

import json

import pytest

from headroom_mitm.addon import pipeline
from headroom_mitm.addon.compress import MARKER_RE
from headroom_mitm.addon.pipeline import compress_body, retrieval_declared
from headroom_mitm.addon.providers import by_name
from headroom_mitm.rules import load_rules
from pipeline_fakes import anthropic_body, raw

ANTHROPIC = by_name("anthropic")
SHIPPED = load_rules(None)
BUILD_LOG = "\n".join([f"   Compiling module_{n} v0.{n}.0 took {n % 7} ms" for n in range(600)] + ["error: linker failed"])


def refs_in(text: str) -> list[str]:
    return [m["ref"] for m in MARKER_RE.finditer(text) if m["ref"]]


def compress(body, mode="cache"):
    pipeline.clear_memo()
    text = raw(body)
    return compress_body(text, json.loads(text), ANTHROPIC, SHIPPED, mode)


def test_a_long_log_is_elided_only_when_the_model_can_retrieve_it():
    calls = [("Bash", {"command": "make"}, BUILD_LOG)]
    with_tool, without = compress(anthropic_body(calls)), compress(anthropic_body(calls, retrieval=False))
    assert with_tool.lossy and not without.lossy
    assert refs_in(with_tool.outputs[0].text) and with_tool.outputs[0].tokens_after < 0.3 * with_tool.outputs[0].tokens_before
    assert not refs_in(without.outputs[0].text)
    assert "Compiling module_311 v0.311.0" in without.outputs[0].text and "error: linker failed" in without.outputs[0].text


def test_without_the_tool_only_lossless_steps_and_references_within_the_request_run():
    listing = "\n".join(f"./src/pkg/module_{n}.py" for n in range(80))
    calls = [("Bash", {"command": "find src"}, listing), ("Bash", {"command": "find src -name '*.py'"}, listing),
             ("Bash", {"command": "true"}, "<returncode>0</returncode>\n<output>\nok\n</output>")]
    reports = compress(anthropic_body(calls, retrieval=False)).outputs
    assert reports[0].changed and not refs_in(reports[0].text)  # paths: lossless
    assert reports[1].text.startswith("[headroom: dedupe identical to the output of call toolu_00")  # still in the request
    assert reports[2].text == "[headroom: exit 0]\nok\n"  # quiet_success would drop the exit 0: not here


def test_the_retrieve_tools_own_output_is_sent_as_it_came():
    body = anthropic_body([("Bash", {"command": "make"}, BUILD_LOG),
                           ("mcp__headroom__headroom_retrieve", {"ref": "3fa9c01b22de"}, BUILD_LOG)])
    reports = compress(body).outputs
    assert reports[0].changed
    assert not reports[1].changed and reports[1].action == "protect"


def test_token_mode_retires_nothing_the_model_could_not_get_back():
    calls = [("Read", {"file_path": "a.py"}, "x = 1\n" * 200)] * 2 + [("Bash", {"command": f"echo {n}"}, "ok") for n in range(20)]
    with_tool = compress(anthropic_body(calls), "token")
    without = compress(anthropic_body(calls, retrieval=False), "token")
    assert with_tool.outputs[0].text.startswith("[headroom: stale")
    assert not any(r.text.startswith("[headroom: stale") for r in without.outputs)


@pytest.mark.parametrize("wire_name, body", [
    ("anthropic", {"tools": [{"name": "mcp__headroom__headroom_retrieve"}]}),
    ("openai-chat", {"tools": [{"type": "function", "function": {"name": "headroom_retrieve"}}]}),
    ("gemini", {"tools": [{"functionDeclarations": [{"name": "run_shell_command"}, {"name": "headroom_retrieve"}]}]}),
    ("openai-responses", {"input": [{"type": "additional_tools", "tools": [
        {"type": "namespace", "name": "mcp__headroom", "tools": [{"type": "function", "name": "headroom_retrieve"}]}]}]}),
    ("openai-responses", {"type": "response.create", "tools": [{"type": "function", "name": "mcp__headroom__headroom_retrieve"}]}),
])
def test_the_retrieve_tool_is_found_wherever_a_format_declares_tools(wire_name, body):
    assert retrieval_declared(by_name(wire_name), body)
    assert not retrieval_declared(by_name(wire_name), {"tools": [{"name": "headroom_retrieve_v2"}]})


DEFERRED_NOTE = ("<system-reminder>The following deferred tools are available; calling one directly will fail with "
                 "InputValidationError. Use ToolSearch with query \"select:<name>[,<name>...]\" to load tool schemas "
                 "before calling them: ListMcpResourcesTool ReadMcpResourceTool mcp__headroom__headroom_retrieve"
                 "</system-reminder>")


def test_a_tool_claude_code_defers_counts_from_the_turn_after_it_named_it():
    """Claude Code names MCP tools in a note and loads them through ToolSearch: the model has the
    tool from then on. Outputs sent before the note keep their lossless form, so the request
    after the note repeats the bytes of the one before it."""
    calls = [("Bash", {"command": "make"}, BUILD_LOG)]
    before = anthropic_body(calls, retrieval=False)
    after = anthropic_body(calls + [("Bash", {"command": "make again"}, BUILD_LOG.replace("module_", "crate_"))],
                           retrieval=False)
    after["messages"][2]["content"].append({"type": "text", "text": DEFERRED_NOTE})
    first, second = compress(before), compress(after)
    assert not first.lossy and second.lossy
    assert second.outputs[0].text == first.outputs[0].text and not refs_in(second.outputs[0].text)
    assert refs_in(second.outputs[1].text)


CODEX_NOTE = "<tools>\nDeferred tool namespaces:\n- mcp__docs\n- mcp__headroom\n</tools>"


def test_codex_naming_headroom_mcps_namespace_among_its_deferred_ones_counts_from_the_turn_after():
    """Codex, once an MCP server has started, adds a developer message naming the namespaces it
    defers; the model loads the tool from there. Outputs after that message may be elided, those
    before keep the form they were sent in."""
    wire = by_name("openai-responses")

    def body(*items):
        return {"model": "gpt-5-codex", "input": [{"type": "message", "role": "user",
                                                   "content": [{"type": "input_text", "text": "build it"}]}, *items]}

    def call(number, log):
        return [{"type": "function_call", "call_id": f"call_{number}", "name": "shell",
                 "arguments": json.dumps({"command": ["make"]})},
                {"type": "function_call_output", "call_id": f"call_{number}", "output": log}]

    def note(text):
        return {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": text}]}

    def run(document):
        pipeline.clear_memo()
        text = json.dumps(document)
        return compress_body(text, json.loads(text), wire, SHIPPED)

    second_log = BUILD_LOG.replace("module_", "crate_")
    first = run(body(*call(1, BUILD_LOG)))
    second = run(body(*call(1, BUILD_LOG), note(CODEX_NOTE), *call(2, second_log)))
    assert not first.lossy and second.lossy
    assert second.outputs[0].text == first.outputs[0].text and not refs_in(second.outputs[0].text)
    assert refs_in(second.outputs[1].text)
    other = run(body(*call(1, BUILD_LOG), note(CODEX_NOTE.replace("- mcp__headroom\n", "")), *call(2, second_log)))
    assert not other.lossy and not refs_in(other.outputs[1].text)
