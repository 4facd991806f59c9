"""Responses shell outputs are tool outputs with their exit codes; Gemini's streamed argument
pieces make one call; Codex's compaction passes untouched."""

from __future__ import annotations

import json

from headroom_mitm.addon.flow_entry import tool_call_entries
from headroom_mitm.addon.pipeline import compress_body
from headroom_mitm.addon.providers import by_name, for_request
from headroom_mitm.rules import load_rules

RESPONSES = by_name("openai-responses")
LOG = "\n".join(f"2026-12-01T10:00:{n % 60:02d}Z INFO worker-{n % 4} processed batch id={1000 + n}" for n in range(400))

SHELL_BODY = {"model": "gpt-5", "tools": [{"type": "function", "name": "mcp__headroom__headroom_retrieve"}], "input": [
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "check the logs"}]},
    {"type": "shell_call", "call_id": "call_sh1", "status": "completed",
     "action": {"commands": ["cat app.log", "ls missing"], "timeout_ms": 10000}},
    {"type": "shell_call_output", "call_id": "call_sh1", "max_output_length": 100000, "output": [
        {"stdout": LOG, "stderr": "", "outcome": {"type": "exit", "exit_code": 0}},
        {"stdout": "", "stderr": "ls: cannot access 'missing': No such file or directory",
         "outcome": {"type": "exit", "exit_code": 2}},
    ]},
    {"type": "local_shell_call", "id": "lsh_1", "call_id": "call_lsh1", "status": "completed",
     "action": {"type": "exec", "command": ["pytest", "-q"]}},
    {"type": "local_shell_call_output", "id": "call_lsh1",
     "output": json.dumps({"output": "F.\n1 failed, 1 passed", "metadata": {"exit_code": 1, "duration_seconds": 0.4}})},
]}


def test_shell_call_output_runs_are_outputs_with_their_exit_codes():
    outputs = RESPONSES.extract(SHELL_BODY)
    shell = [o for o in outputs if o.call_id == "call_sh1"]
    assert [(o.path[-2:], o.exit_code, o.is_error) for o in shell] == [
        ((0, "stdout"), 0, False), ((1, "stdout"), 2, True), ((1, "stderr"), 2, True)]
    assert shell[0].tool_name == "shell" and shell[0].arguments["commands"] == ["cat app.log", "ls missing"]
    assert shell[0].text == LOG


def test_local_shell_call_output_is_unwrapped_from_its_json():
    (output,) = [o for o in RESPONSES.extract(SHELL_BODY) if o.call_id == "call_lsh1"]
    assert (output.tool_name, output.text, output.exit_code, output.is_error) == \
        ("local_shell", "F.\n1 failed, 1 passed", 1, True)
    assert output.arguments == {"type": "exec", "command": ["pytest", "-q"]}
    entries = tool_call_entries(RESPONSES.extract(SHELL_BODY), "s", None, "openai-responses")
    assert [(e.call_id, e.exit_code, e.is_error) for e in entries] == [("call_sh1", 0, True), ("call_lsh1", 1, True)]


def test_a_long_shell_stdout_is_compressed_in_place():
    raw = json.dumps(SHELL_BODY)
    outcome = compress_body(raw, json.loads(raw), RESPONSES, load_rules(None))
    sent = json.loads(outcome.text)
    assert len(sent["input"][2]["output"][0]["stdout"]) < len(LOG) / 2
    assert sent["input"][2]["output"][1] == SHELL_BODY["input"][2]["output"][1]
    assert {k: v for k, v in sent["input"][2].items() if k != "output"} == \
           {k: v for k, v in SHELL_BODY["input"][2].items() if k != "output"}


def test_codex_compaction_is_forwarded_untouched():
    assert for_request("chatgpt.com", "/backend-api/codex/responses/compact") is None
    assert for_request("api.openai.com", "/v1/responses/compact") is None


def gemini_stream(chunks: list[dict]) -> bytes:
    return b"".join(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n" for chunk in chunks)


def parts(*function_calls: dict) -> dict:
    return {"candidates": [{"content": {"role": "model", "parts": [{"functionCall": c} for c in function_calls]}}]}


PARTIAL = [
    parts({"name": "run_shell_command", "id": "c1", "willContinue": True,
           "partialArgs": [{"jsonPath": "$.command", "stringValue": "grep -rn 'def ", "willContinue": True}]}),
    parts({"willContinue": True, "partialArgs": [{"jsonPath": "$.command", "stringValue": "total' src"}]}),
    parts({"willContinue": True, "partialArgs": [{"jsonPath": "$.options.timeout", "numberValue": 30},
                                                   {"jsonPath": "$.paths[1]", "stringValue": "lib"},
                                                   {"jsonPath": "$.background", "boolValue": False}]}),
    parts({}),
    parts({"name": "read_file", "args": {"file_path": "a.py"}}),
    {"candidates": [{"finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5}},
]


def test_gemini_streamed_argument_pieces_are_one_call_whatever_the_chunking():
    stream = gemini_stream(PARTIAL)
    for size in (len(stream), 7, 1):
        parser = by_name("gemini").stream_parser()
        for start in range(0, len(stream), size):
            parser.feed(stream[start:start + size])
        summary = parser.close()
        assert [(c.id, c.name) for c in summary.tool_calls] == [("c1", "run_shell_command"), ("", "read_file")]
        assert json.loads(summary.tool_calls[0].arguments) == {
            "command": "grep -rn 'def total' src", "options": {"timeout": 30}, "paths": [None, "lib"],
            "background": False}
        assert json.loads(summary.tool_calls[1].arguments) == {"file_path": "a.py"}
        assert summary.stop_reason == "STOP"


def test_a_gemini_call_cut_short_keeps_the_pieces_that_arrived():
    parser = by_name("gemini").stream_parser()
    parser.feed(gemini_stream(PARTIAL[:2]))
    (call,) = parser.close().tool_calls
    assert json.loads(call.arguments) == {"command": "grep -rn 'def total' src"}
