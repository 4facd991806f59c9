"""The scripted model the agent tests rely on: which turn it answers, and that real SDKs parse it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .agents.checks import assert_resent_unchanged
from .clients import anthropic_client, openai_client
from .conftest import StartProxy
from .fake_provider import FakeProvider
from .scripted_model import Exchange, ModelScript, Say, Shell, ToolCall, anthropic_tool_outputs

BASH_TOOL = {"name": "Bash", "description": "run", "input_schema": {"type": "object"}}


def _anthropic_request(*results: tuple[str, str], tools: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
    for call_id, text in results:
        messages.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": call_id, "name": "Bash", "input": {"command": "x"}}]})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": call_id, "content": text}]})
    return {"model": "claude-test", "max_tokens": 100, "tools": [BASH_TOOL] if tools is None else tools,
            "messages": messages}


def _tool_use(answer: dict[str, Any]) -> dict[str, Any]:
    [block] = [b for b in answer["content"] if b["type"] == "tool_use"]
    return block


def test_the_next_turn_is_the_number_of_the_scripts_calls_answered() -> None:
    script = ModelScript([Shell("ls"), Shell("git log"), Say("done")])

    first = _tool_use(script.anthropic_message(_anthropic_request()))
    again = _tool_use(script.anthropic_message(_anthropic_request()))  # a retry asks for the same turn
    second = _tool_use(script.anthropic_message(_anthropic_request((first["id"], "a b"))))
    final = script.anthropic_message(_anthropic_request((first["id"], "a b"), (second["id"], "log")))

    assert (first["name"], first["input"]["command"]) == ("Bash", "ls")
    assert again["input"]["command"] == "ls"
    assert second["input"]["command"] == "git log"
    assert final["stop_reason"] == "end_turn" and final["content"][0]["text"] == "done"
    assert script.finished
    assert [e.turn_index for e in script.exchanges] == [0, 0, 1, 2]


def test_side_requests_get_a_harmless_answer_and_consume_no_turn() -> None:
    script = ModelScript([Shell("ls"), Say("done")])

    title = script.anthropic_message(_anthropic_request(tools=[]))
    foreign = script.anthropic_message(_anthropic_request(("toolu_theirs", "x")))  # not the script's call

    assert title["stop_reason"] == "end_turn" and len(script.side_requests) == 1
    assert _tool_use(foreign)["input"]["command"] == "ls"
    assert not script.finished


def test_a_shell_turn_uses_the_agents_own_shell_tool() -> None:
    script = ModelScript([Shell("ls")])
    mini_tools = [{"name": "bash", "input_schema": {"type": "object"}}]

    call = _tool_use(script.anthropic_message(_anthropic_request(tools=mini_tools)))

    assert call == {**call, "name": "bash", "input": {"command": "ls"}}


def test_a_turn_can_read_what_the_model_was_sent() -> None:
    def read_the_named_file(sent: Exchange) -> ToolCall:
        return ToolCall("Read", {"path": next(iter(sent.tool_outputs.values()))})

    script = ModelScript([Shell("cat notes"), read_the_named_file, Say("done")])
    first = _tool_use(script.anthropic_message(_anthropic_request()))

    second = _tool_use(script.anthropic_message(_anthropic_request((first["id"], "notes.md"))))

    assert (second["name"], second["input"]) == ("Read", {"path": "notes.md"})


def _responses_item(script: ModelScript, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    events = list(script.responses_events(payload))
    completed = events[-1][1]["response"]
    assert events[-1][0] == "response.completed"
    return completed["id"], completed["output"][0] if completed["output"] else {}


def test_codex_websocket_messages_are_followed_through_previous_response_id() -> None:
    """Each Codex message after the first carries only what is new; the chain says what came before."""
    script = ModelScript([Shell("ls"), Shell("git log"), Say("done")])
    tools = [{"type": "namespace", "name": "functions", "tools": [{"type": "custom", "name": "exec"}]}]

    prewarm_id, nothing = _responses_item(script, {"type": "response.create", "generate": False, "input": []})
    first_id, first = _responses_item(script, {"type": "response.create", "previous_response_id": prewarm_id,
                                               "input": [{"type": "additional_tools", "tools": tools}]})
    answer = {"type": "custom_tool_call_output", "call_id": first["call_id"], "output": "a b"}
    second_id, second = _responses_item(script, {"previous_response_id": first_id, "input": [answer]})
    answer = {"type": "custom_tool_call_output", "call_id": second["call_id"], "output": "log"}
    _, final = _responses_item(script, {"previous_response_id": second_id, "input": [answer]})

    assert nothing == {} and len(script.side_requests) == 1
    assert first["type"] == "custom_tool_call" and first["name"] == "exec"
    assert json.dumps("ls") in first["input"] and "tools.exec_command" in first["input"]
    assert second["type"] == "custom_tool_call" and json.dumps("git log") in second["input"]
    assert final["type"] == "message" and final["content"][0]["text"] == "done"


def test_resent_outputs_must_repeat_exactly() -> None:
    assert assert_resent_unchanged([{"a": "x"}, {"a": "x", "b": "y"}, {"a": "x", "b": "y"}]) == 3
    with pytest.raises(AssertionError, match="changed between scripted requests 2 and 3 at character 1"):
        assert_resent_unchanged([{"a": "x"}, {"a": "x", "b": "yz"}, {"a": "x", "b": "yZ"}])


def test_tool_outputs_are_read_as_their_text() -> None:
    payload = _anthropic_request(("t1", "plain"))
    payload["messages"].append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t2",
                                                             "content": [{"type": "text", "text": "a"},
                                                                         {"type": "text", "text": "b"}]}]})

    assert anthropic_tool_outputs(payload) == {"t1": "plain", "t2": "ab"}


# --------------------------------------------------------------------------------------------
# The official SDKs parse what the script streams (through plain mitmdump)


@pytest.mark.e2e
def test_the_anthropic_sdk_reads_a_streamed_tool_call(start_proxy: StartProxy, fake: FakeProvider) -> None:
    start_proxy(with_addon=False)
    fake.use_script(ModelScript([Shell("git log --oneline"), Say("done")]))
    client, _ = anthropic_client()

    with client.messages.stream(model="claude-test", max_tokens=100, tools=[BASH_TOOL],
                                messages=[{"role": "user", "content": "go"}]) as stream:
        message = stream.get_final_message()

    assert message.stop_reason == "tool_use"
    [call] = [block for block in message.content if block.type == "tool_use"]
    assert (call.name, call.input) == ("Bash", {"command": "git log --oneline", "description": "Running a command."})


@pytest.mark.e2e
def test_the_openai_sdk_reads_a_streamed_function_call(start_proxy: StartProxy, fake: FakeProvider) -> None:
    start_proxy(with_addon=False)
    fake.use_script(ModelScript([Shell("ls -la"), Say("done")]))
    client, _ = openai_client()
    tools = [{"type": "function", "name": "shell", "parameters": {"type": "object"}}]

    with client.responses.stream(model="gpt-test", input="go", tools=tools) as stream:
        response = stream.get_final_response()

    [call] = response.output
    assert call.type == "function_call" and call.name == "shell"
    assert json.loads(call.arguments) == {"command": ["bash", "-lc", "ls -la"]}
