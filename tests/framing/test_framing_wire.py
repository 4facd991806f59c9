"""Each real client's framing, on the bodies it really sent: outputs found, exit codes read,
compressed inside the frame, and every byte of the frame kept."""

from __future__ import annotations

import json
import re

import pytest

from headroom_mitm.addon.flow_entry import tool_call_entries
from headroom_mitm.addon.pipeline import compress_body
from headroom_mitm.addon.providers import by_name
from headroom_mitm.rules import load_rules

ANTHROPIC = by_name("anthropic")
OPENAI_CHAT = by_name("openai-chat")
GEMINI = by_name("gemini", "/v1beta/models/gemini-3-pro-preview:streamGenerateContent")
SHIPPED = load_rules(None)


def tool_result_strings(body: dict) -> list[str]:
    found = []
    for message in body["messages"]:
        for block in message["content"] if isinstance(message["content"], list) else []:
            if block.get("type") == "tool_result":
                content = block["content"]
                found.append(content if isinstance(content, str) else content[0]["text"])
    return found


def outside_strings(observation: str) -> str:
    """The observation's JSON with every string value blanked: what must not change."""
    pieces, cursor = [], 0
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"', observation):
        if not observation[token.end():].lstrip().startswith(":"):
            pieces += [observation[cursor:token.start()], '""']
            cursor = token.end()
    return "".join(pieces) + observation[cursor:]


# --- mini-swe-agent 2.4.6, default config: JSON observations in tool results ---------------------

def test_mini_swe_agent_json_observations_are_unwrapped_with_their_exit_codes(wire):
    raw, body = wire("mini-swe-agent-2.4.6-default")[-1]
    outputs = ANTHROPIC.extract(body)
    observations = [json.loads(text) for text in tool_result_strings(body)]
    expected = [(index, key) for index, obs in enumerate(observations)
                for key in ("output", "output_head", "output_tail") if key in obs]
    assert [(o.turn // 2 - 1, o.frame.key) for o in outputs] == expected
    for output in outputs:
        observation = observations[output.turn // 2 - 1]
        assert output.text == observation[output.frame.key]
        assert output.exit_code == observation["returncode"]
        assert output.is_error == (observation["returncode"] != 0)
        assert output.tool_name == "bash" and output.arguments["command"].startswith("cd /srv/demo/repo")
    assert [o.exit_code for o in outputs if o.is_error] == [1]  # the failing pytest run


@pytest.mark.parametrize("lossy", [False, True])
def test_mini_swe_agent_observations_are_compressed_inside_and_keep_their_json(wire, lossy):
    """mini-swe-agent has no retrieve tool: what it gets is lossless; with one (lossy), more."""
    raw, body = wire("mini-swe-agent-2.4.6-default")[-1]
    outcome = compress_body(raw, body, ANTHROPIC, SHIPPED, lossy=None if not lossy else True)
    before, after = tool_result_strings(body), tool_result_strings(json.loads(outcome.text))
    assert sum(map(len, after)) < (0.8 if lossy else 0.9) * sum(map(len, before))
    shrunk = 0
    for old, new in zip(before, after):
        old_doc, new_doc = json.loads(old), json.loads(new)
        assert list(new_doc) == list(old_doc)
        assert {k: v for k, v in new_doc.items() if not k.startswith("output")} == \
               {k: v for k, v in old_doc.items() if not k.startswith("output")}
        assert outside_strings(new) == outside_strings(old)  # indentation, numbers, key order
        shrunk += new != old
    assert shrunk >= (4 if lossy else 3)


def test_new_output_text_is_escaped_the_way_the_agent_escaped_it(wire):
    """mini-swe-agent writes its JSON with Jinja's tojson: `>` as \\u003e, never raw."""
    raw, body = wire("mini-swe-agent-2.4.6-default")[-1]
    grep_before = tool_result_strings(body)[-1]
    assert "\\u003e" in grep_before and ">" not in grep_before.replace("\\u003e", "")
    grep_after = tool_result_strings(json.loads(compress_body(raw, body, ANTHROPIC, SHIPPED).text))[-1]
    assert grep_after != grep_before
    assert "\\u003e" in grep_after and ">" not in grep_after.replace("\\u003e", "")
    assert "-> float" in json.loads(grep_after)["output"]


# --- mini-swe-agent 2.4.6, text config: outputs as user messages ---------------------------------

def test_mini_swe_agent_text_outputs_are_the_user_messages_answering_each_command(wire):
    raw, body = wire("mini-swe-agent-2.4.6-text")[-1]
    outputs = ANTHROPIC.extract(body)
    commands = [re.search(r"```mswea_bash_command\n(.*?)\n```", m["content"][0]["text"], re.S)[1]
                for m in body["messages"] if m["role"] == "assistant"]
    assert [o.arguments["command"] for o in outputs] == commands
    assert [o.call_id for o in outputs] == [f"step-{n}" for n in range(1, len(commands) + 1)]
    assert all(o.tool_name == "bash" and o.text.startswith("<returncode>") for o in outputs)
    assert [(o.exit_code, o.is_error) for o in outputs if "pytest" in o.arguments["command"]] == [(1, True)]
    assert {o.exit_code for o in outputs if "pytest" not in o.arguments["command"]} == {0}
    assert outputs[0].path == ("messages", 2, "content", 0, "text")


def test_mini_swe_agent_text_outputs_are_compressed(wire):
    raw, body = wire("mini-swe-agent-2.4.6-text")[-1]
    outcome = compress_body(raw, body, ANTHROPIC, SHIPPED)
    assert len(outcome.outputs) == 7
    assert outcome.tokens_after < 0.85 * outcome.tokens_before
    sent = json.loads(outcome.text)["messages"]
    assert sent[0] == body["messages"][0]  # the task is no tool output
    assert [m for m in sent if m["role"] == "assistant"] == [m for m in body["messages"] if m["role"] == "assistant"]


def test_the_log_keeps_text_framed_calls_with_their_exit_codes(wire):
    raw, body = wire("mini-swe-agent-2.4.6-text")[-1]
    entries = tool_call_entries(ANTHROPIC.extract(body), "s", None, "anthropic")
    failing = [e for e in entries if e.is_error]
    assert [(e.tool, e.exit_code) for e in failing] == [("bash", 1)]
    assert "pytest" in failing[0].arguments["command"]
    assert failing[0].output == body["messages"][6]["content"][0]["text"]  # as the agent sent it


# --- aider 0.86.2: "I ran this command" --------------------------------------------------------

def test_aider_command_outputs_are_found_and_only_the_output_is_compressed(wire):
    bodies = wire("aider-0.86.2")
    raw, body = bodies[2]  # the main model's second request (the others are summaries)
    outputs = OPENAI_CHAT.extract(body)
    assert [o.arguments["command"] for o in outputs] == [
        "tail -n 200 logs/app.log", "ls -laR | head -n 200",
        "/srv/demo/venv/bin/python -m pytest -q -p no:cacheprovider",
        "/srv/demo/venv/bin/python -m pytest -q -p no:cacheprovider"]
    for output in outputs:
        message = body["messages"][output.turn]["content"]
        assert message.startswith("I ran this command:\n\n") and message.endswith(output.text)
        assert "And got this output" not in output.text
    outcome = compress_body(raw, body, OPENAI_CHAT, SHIPPED)
    sent = json.loads(outcome.text)["messages"]
    assert sent[5]["content"].startswith("I ran this command:\n\nls -laR | head -n 200\n\nAnd got this output:\n\n")
    assert len(sent[5]["content"]) < 0.8 * len(body["messages"][5]["content"])  # ls -l rows, losslessly
    summary_raw, summary = bodies[1]
    assert OPENAI_CHAT.extract(summary) == []  # a summary quoting the history is no command output


# --- Gemini CLI 0.61: the Exit Code trailer ------------------------------------------------------

def test_gemini_cli_exit_code_comes_from_its_trailer(wire):
    raw, body = wire("gemini-cli-0.61.0")[-1]
    outputs = GEMINI.extract(body)
    shell = [o for o in outputs if o.tool_name == "run_shell_command"]
    assert [(o.exit_code, o.is_error) for o in shell if "pytest" in o.arguments["command"]] == [(1, True)]
    assert all(not o.is_error for o in shell if "pytest" not in o.arguments["command"])
    for output in shell:
        outer = output.frame.frame.outer
        assert outer.endswith("</untrusted_context>") and "Process Group PGID" not in output.text
        assert "Exit Code" not in output.text and not output.text.startswith("<untrusted_context>")
    entries = tool_call_entries(outputs, "s", None, "gemini")
    assert [(e.exit_code, e.is_error) for e in entries if "pytest" in str(e.arguments)] == [(1, True)]


def test_gemini_cli_trailer_and_notice_stay_byte_for_byte(wire):
    raw, body = wire("gemini-cli-0.61.0")[-1]
    outcome = compress_body(raw, body, GEMINI, SHIPPED)
    assert outcome.tokens_after < 0.8 * outcome.tokens_before
    sent = json.loads(outcome.text)
    framed = 0
    for old, new in zip(body["contents"], sent["contents"]):
        for old_part, new_part in zip(old["parts"], new["parts"]):
            if "functionResponse" not in old_part:
                assert new_part == old_part
                continue
            was, now = old_part["functionResponse"]["response"]["output"], new_part["functionResponse"]["response"]["output"]
            if "\nProcess Group PGID" not in was:
                continue  # read_file: no shell framing
            framed += 1
            head = was.split("Output: ", 1)[0] + "Output: "
            tail = was[was.rindex("\nProcess Group PGID"):]
            assert now.startswith(head) and now.endswith(tail)
            assert ("\nExit Code: 1\nProcess Group PGID" in now) == ("\nExit Code: 1\n" in was)
    assert framed == 6
