"""Text-framed outputs in real traces: mini-swe-agent 1.x as it sends them, SWE-agent, and the
messages that are no command output."""

from __future__ import annotations

import json
import re

from headroom_mitm.addon.pipeline import compress_body
from headroom_mitm.addon.providers import by_name
from headroom_mitm.rules import load_rules
from trace_bodies import mini_swe_text_requests, mini_swe_trace_files

OPENAI_CHAT = by_name("openai-chat")
ANTHROPIC = by_name("anthropic")
BASH_BLOCK = re.compile(r"```bash\s*\n(.*?)\n```", re.S)


def test_mini_swe_agent_1x_every_output_is_the_answer_to_its_bash_block(shared_traces):
    for path in mini_swe_trace_files()[:30]:
        last = list(mini_swe_text_requests(path))[-1]
        messages = last["messages"]
        expected = [(turn, BASH_BLOCK.findall(messages[turn - 1]["content"])[-1])
                    for turn, message in enumerate(messages)
                    if message["role"] == "user" and messages[turn - 1]["role"] == "assistant"
                    and message["content"].startswith(("<returncode>", "The last command <command>"))]
        outputs = OPENAI_CHAT.extract(last)
        assert [(o.turn, o.arguments["command"]) for o in outputs] == expected, path.name
        for output in outputs:
            message = messages[output.turn]["content"]
            if message.startswith("<returncode>"):
                code = int(re.match(r"<returncode>(-?\d+)", message)[1])
                assert (output.text, output.exit_code, output.is_error) == (message, code, code != 0)


def test_format_errors_and_the_task_are_no_command_output(shared_traces):
    path = next(p for p in mini_swe_trace_files() if "found 2 actions" in p.read_text())
    last = list(mini_swe_text_requests(path))[-1]
    turns = {o.turn for o in OPENAI_CHAT.extract(last)}
    rejected = [turn for turn, m in enumerate(last["messages"])
                if m["role"] == "user" and m["content"].startswith("Please always provide EXACTLY ONE action")]
    assert rejected and not turns & set(rejected)
    assert not turns & {0, 1}  # system prompt, task


def test_a_timeout_notice_is_a_failed_output_of_its_command(shared_traces):
    path = shared_traces / "mini-swe-agent" / "matplotlib__matplotlib-13989.traj.json"
    last = list(mini_swe_text_requests(path))[-1]
    timeout = next(o for o in OPENAI_CHAT.extract(last) if o.turn == 39)
    notice = last["messages"][39]["content"]
    assert timeout.arguments == {"command": "pytest lib/matplotlib/tests/test_axes.py"}
    assert timeout.is_error and timeout.exit_code is None
    assert notice.startswith("The last command <command>") and timeout.text in notice
    assert "timed out" not in timeout.text and timeout.text.startswith("Matplotlib is not built")
    assert timeout.frame.frame.rebuild({"": "X"}).endswith(
        " <output>\nX\n</output>\nPlease try another command and make sure to avoid those requiring interactive input.")


def test_mini_swe_agent_1x_outputs_reach_the_provider_compressed(shared_traces):
    path = max(mini_swe_trace_files()[:30], key=lambda p: p.stat().st_size)
    last = list(mini_swe_text_requests(path))[-1]
    raw = json.dumps(last)
    outcome = compress_body(raw, json.loads(raw), OPENAI_CHAT, load_rules(None))
    assert outcome.tokens_after < 0.9 * outcome.tokens_before
    sent = json.loads(outcome.text)["messages"]
    assert [m for m in sent if m["role"] != "user"] == [m for m in last["messages"] if m["role"] != "user"]
    assert sent[1] == last["messages"][1]


def test_swe_agent_observations_answer_the_fenced_command(shared_traces):
    trajectory = json.loads((shared_traces / "swe-agent" / "pydicom__pydicom-1458.traj").read_text())
    messages = [{"role": m["role"], "content": m["content"]} for m in trajectory["history"]]
    outputs = OPENAI_CHAT.extract({"model": "gpt-4", "messages": messages})
    expected = [turn for turn, m in enumerate(messages)
                if m["role"] == "user" and m["content"].endswith("bash-$") and messages[turn - 1]["role"] == "assistant"]
    assert [o.turn for o in outputs] == expected and len(expected) >= 5
    for output in outputs:
        action = trajectory["history"][output.turn - 1]["action"]
        assert output.arguments["command"] == action.rstrip("\n")
        assert "(Open file:" not in output.text and "bash-$" not in output.text
        assert messages[output.turn]["content"].startswith(output.text)


def test_a_framed_message_without_a_command_before_it_is_left_alone():
    body = {"model": "m", "messages": [
        {"role": "user", "content": "Here is what my script printed:"},
        {"role": "assistant", "content": "Please paste the output."},
        {"role": "user", "content": "<returncode>1</returncode>\n<output>\nboom\n</output>"},
        {"role": "assistant", "content": "Run this:\n\n```bash\nls\n```"},
        {"role": "user", "content": "thanks, but I would rather not"},
    ]}
    assert OPENAI_CHAT.extract(body) == []


def test_claude_code_sends_no_text_framed_output(wire):
    raw, body = wire("claude-code-2.1.197")[-1]
    results = [b for m in body["messages"] if isinstance(m["content"], list)
               for b in m["content"] if b.get("type") == "tool_result"]
    outputs = ANTHROPIC.extract(body)
    assert len(outputs) == len(results) and all(o.frame is None and o.exit_code is None for o in outputs)
