"""A scripted model for the fake provider: real agents get tool calls to run, then a final answer.

A test writes the model's side of a conversation as turns (``Shell("git log")``, then
``Say("Done.")``) and gives them to ``FakeProvider.use_script``. The fake then answers each
conversation request with the next turn, rendered the way the agent expects it: a ``Bash``
tool_use streamed over SSE for Claude Code, a ``bash`` tool_use for mini-swe-agent, Codex's
``exec`` custom tool (JavaScript calling ``tools.exec_command``) over its WebSocket or HTTP.

Which turn comes next is read from the request itself, never from how many requests came
before: it is the number of the script's own tool calls the conversation already answers. So side
requests (Claude Code's title or quota calls, Codex's prewarm) get a harmless answer and consume
no turn, and a retried request gets the same turn again. A turn may also be a function of what
the model was sent (:class:`Exchange`), for a model that reacts to a tool output.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence, Union

from .provider_answers import ANTHROPIC_USAGE, OPENAI_RESPONSES_USAGE, Events

__all__ = [
    "Shell", "ToolCall", "Say", "Turn", "Exchange", "ModelScript",
    "anthropic_tool_outputs", "responses_tool_outputs", "SHELL_TOOL_NAMES",
]


# --------------------------------------------------------------------------------------------
# Turns


@dataclass(frozen=True)
class Shell:
    """Run ``command`` with the agent's own shell tool (whatever it is called in this agent)."""

    command: str
    note: str = "Running a command."


@dataclass(frozen=True)
class ToolCall:
    """Call tool ``name`` with ``arguments`` as given (an MCP tool, a file read …)."""

    name: str
    arguments: dict[str, Any]
    note: str = "Calling a tool."


@dataclass(frozen=True)
class Say:
    """Answer with ``text`` and end the turn."""

    text: str


Turn = Union[Shell, ToolCall, Say]


@dataclass(frozen=True)
class Exchange:
    """What one scripted request held: the turn number it asked for and the tool outputs it sent."""

    turn_index: int
    payload: dict[str, Any]
    tool_outputs: dict[str, str]
    """Text of each tool output of the script's own calls in this request, by call id, as sent."""


TurnSource = Union[Turn, Callable[[Exchange], Turn]]

SHELL_TOOL_NAMES = ("Bash", "bash", "shell", "run_shell_command")
"""Anthropic-style shell tools, in the order a :class:`Shell` turn looks for them."""

_FALLBACK = Say("Done.")
_SIDE_TEXT = "OK"
_CALL_PREFIX = "script"
_OUTPUT_ITEM_TYPES = ("function_call_output", "custom_tool_call_output", "local_shell_call_output", "shell_call_output")


# --------------------------------------------------------------------------------------------
# Reading what agents send


def _joined_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") if isinstance(part, dict) else str(part) for part in content
        )
    return "" if content is None else json.dumps(content)


def anthropic_tool_outputs(payload: dict[str, Any]) -> dict[str, str]:
    """Every tool_result of an Anthropic Messages body, by tool_use_id: its text as sent."""
    outputs: dict[str, str] = {}
    for message in payload.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                outputs[str(block.get("tool_use_id"))] = _joined_text(block.get("content"))
    return outputs


_TURN_ID = re.compile(r"toolu_" + _CALL_PREFIX + r"\d+n\d+")
_FENCE_ASKED = re.compile(r"```(mswea_bash_command|bash)\n")


def _text_action_fence(payload: dict[str, Any]) -> str | None:
    """The fence an agent without tools wants its command in, as its system prompt shows it."""
    system = payload.get("system")
    text = _joined_text(system) if system is not None else ""
    found = _FENCE_ASKED.search(text)
    return found[1] if found else None


def responses_tool_outputs(payload: dict[str, Any]) -> dict[str, str]:
    """Every tool output item of a Responses body (or ``response.create`` message), by call_id."""
    outputs: dict[str, str] = {}
    items = payload.get("input")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("type") in _OUTPUT_ITEM_TYPES:
            outputs[str(item.get("call_id"))] = _joined_text(item.get("output"))
    return outputs


def _tool_names(tools: Any) -> Iterator[tuple[str, str]]:
    """(type, name) of every tool, namespaces (Codex's ``additional_tools``) included."""
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            continue
        name = tool.get("name") or (tool.get("function") or {}).get("name") or ""
        yield str(tool.get("type", "")), str(name)
        yield from _tool_names(tool.get("tools"))


def _responses_tools(payload: dict[str, Any]) -> list[tuple[str, str]]:
    found = list(_tool_names(payload.get("tools")))
    for item in payload.get("input") if isinstance(payload.get("input"), list) else []:
        if isinstance(item, dict) and item.get("type") == "additional_tools":
            found += _tool_names(item.get("tools"))
    return found


# --------------------------------------------------------------------------------------------
# The script


@dataclass
class _Chain:
    """What a Responses conversation answered so far (WebSocket messages are incremental)."""

    answered: frozenset[str]
    shell_style: str | None


@dataclass
class ModelScript:
    """The model's turns for one agent run; thread-safe (the fake serves connections in threads)."""

    turns: Sequence[TurnSource]
    model: str | None = None
    """Model name to answer with; the request's own by default."""
    exchanges: list[Exchange] = field(default_factory=list)
    side_requests: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _chains: dict[str, _Chain] = field(default_factory=dict)

    # what tests read

    @property
    def finished(self) -> bool:
        """True once a request asked for the last turn (or beyond): the agent saw the whole script."""
        with self._lock:
            return any(exchange.turn_index >= len(self.turns) - 1 for exchange in self.exchanges)

    def outputs_by_request(self) -> list[dict[str, str]]:
        """For each scripted request in order, the script's tool outputs it carried."""
        with self._lock:
            return [dict(exchange.tool_outputs) for exchange in self.exchanges]

    # choosing the turn

    def _is_ours(self, call_id: str) -> bool:
        return call_id.startswith(("toolu_" + _CALL_PREFIX, "call_" + _CALL_PREFIX))

    def _next_turn(self, payload: dict[str, Any], answered: dict[str, str]) -> tuple[int, Turn]:
        ours = {call_id: text for call_id, text in answered.items() if self._is_ours(call_id)}
        exchange = Exchange(turn_index=len(ours), payload=payload, tool_outputs=ours)
        with self._lock:
            self.exchanges.append(exchange)
        if exchange.turn_index >= len(self.turns):
            last = self.turns[-1] if self.turns else _FALLBACK
            return exchange.turn_index, last if isinstance(last, Say) else _FALLBACK
        source = self.turns[exchange.turn_index]
        return exchange.turn_index, source(exchange) if callable(source) else source

    def _new_id(self, kind: str, turn_index: int) -> str:
        with self._lock:
            number = next(self._ids)
        return f"{kind}_{_CALL_PREFIX}{turn_index:02d}n{number:03d}"

    def _record_side(self, payload: dict[str, Any]) -> None:
        with self._lock:
            self.side_requests.append(payload)

    # Anthropic Messages

    def _anthropic_shell_tool(self, payload: dict[str, Any]) -> str | None:
        names = {name for _, name in _tool_names(payload.get("tools"))}
        return next((name for name in SHELL_TOOL_NAMES if name in names), None)

    def _anthropic_blocks(self, payload: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        """The assistant content blocks and stop reason answering ``payload``."""
        shell_tool = self._anthropic_shell_tool(payload)
        tool_names = {name for _, name in _tool_names(payload.get("tools"))}
        wanted = {turn.name for turn in self.turns if isinstance(turn, ToolCall)}
        fence = _text_action_fence(payload)
        if shell_tool is None and not (wanted & tool_names) and fence is not None:
            return self._text_action(payload, fence), "end_turn"
        if shell_tool is None and not (wanted & tool_names):
            self._record_side(payload)
            return [{"type": "text", "text": _SIDE_TEXT}], "end_turn"
        turn_index, turn = self._next_turn(payload, anthropic_tool_outputs(payload))
        if isinstance(turn, Say):
            return [{"type": "text", "text": turn.text}], "end_turn"
        if isinstance(turn, Shell):
            name = shell_tool or "Bash"
            arguments: dict[str, Any] = {"command": turn.command}
            if name == "Bash":
                arguments["description"] = turn.note
        else:
            name, arguments = turn.name, turn.arguments
        tool_use = {"type": "tool_use", "id": self._new_id("toolu", turn_index), "name": name, "input": arguments}
        return [{"type": "text", "text": turn.note}, tool_use], "tool_use"

    def _text_action(self, payload: dict[str, Any], fence: str) -> list[dict[str, Any]]:
        """For an agent that reads its command from a fenced block of the reply (mini-swe-agent's
        text config): the command in the fence it asks for, the turn's id in the text. The outputs
        it answered are the user messages right after the script's earlier replies."""
        answered: dict[str, str] = {}
        messages = [m for m in payload.get("messages") or [] if isinstance(m, dict)]
        for reply, answer in zip(messages, messages[1:]):
            found = _TURN_ID.search(_joined_text(reply.get("content"))) if reply.get("role") == "assistant" else None
            if found and answer.get("role") == "user":
                answered[found[0]] = _joined_text(answer.get("content"))
        turn_index, turn = self._next_turn(payload, answered)
        if isinstance(turn, Say):
            return [{"type": "text", "text": turn.text}]
        command = turn.command if isinstance(turn, Shell) else json.dumps(turn.arguments)
        turn_id = self._new_id("toolu", turn_index)
        return [{"type": "text", "text": f"THOUGHT: {turn.note} ({turn_id})\n\n```{fence}\n{command}\n```"}]

    def anthropic_message(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A non-streamed Messages answer."""
        blocks, stop_reason = self._anthropic_blocks(payload)
        return {
            "id": self._new_id("msg", 0), "type": "message", "role": "assistant",
            "model": self.model or payload.get("model", "claude-sonnet-4-5"),
            "content": blocks, "stop_reason": stop_reason, "stop_sequence": None,
            "usage": dict(ANTHROPIC_USAGE),
        }

    def anthropic_events(self, payload: dict[str, Any]) -> Events:
        """A streamed Messages answer: the events Claude Code's SDK parses, in order."""
        message = self.anthropic_message(payload)
        yield "message_start", {"type": "message_start", "message": {
            **message, "content": [], "stop_reason": None,
            "usage": {**ANTHROPIC_USAGE, "output_tokens": 1}}}
        yield "ping", {"type": "ping"}
        for index, block in enumerate(message["content"]):
            if block["type"] == "text":
                yield "content_block_start", {"type": "content_block_start", "index": index,
                                              "content_block": {"type": "text", "text": ""}}
                yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                              "delta": {"type": "text_delta", "text": block["text"]}}
            else:
                yield "content_block_start", {"type": "content_block_start", "index": index,
                                              "content_block": {**block, "input": {}}}
                arguments = json.dumps(block["input"])
                for piece in (arguments[: len(arguments) // 2], arguments[len(arguments) // 2 :]):
                    yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                                  "delta": {"type": "input_json_delta", "partial_json": piece}}
            yield "content_block_stop", {"type": "content_block_stop", "index": index}
        yield "message_delta", {"type": "message_delta",
                                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                                "usage": dict(ANTHROPIC_USAGE)}
        yield "message_stop", {"type": "message_stop"}

    # OpenAI Responses (HTTP and Codex's WebSocket)

    @staticmethod
    def _shell_style(tools: list[tuple[str, str]]) -> str | None:
        kinds = set(tools)
        if ("custom", "exec") in kinds:
            return "codex_exec"  # Codex's code mode: JavaScript calling tools.exec_command
        names = {name for _, name in tools}
        if "exec_command" in names:
            return "exec_command"
        if "shell" in names:
            return "shell"
        if any(kind == "local_shell" for kind, _ in tools):
            return "local_shell"
        return None

    def _responses_output(self, payload: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        """This response's id and output items; the chain it extends is remembered for the next."""
        with self._lock:
            previous = self._chains.get(str(payload.get("previous_response_id")), _Chain(frozenset(), None))
        answered = {**{call_id: "" for call_id in previous.answered}, **responses_tool_outputs(payload)}
        style = self._shell_style(_responses_tools(payload)) or previous.shell_style
        if payload.get("generate") is False:  # Codex's prewarm: no output, consumes nothing
            self._record_side(payload)
            response_id, items = self._new_id("resp", 0), []
        else:
            turn_index, turn = self._next_turn(payload, answered)
            response_id = self._new_id("resp", turn_index)
            items = [self._responses_item(turn, turn_index, style)]
        with self._lock:
            self._chains[response_id] = _Chain(frozenset(c for c in answered if self._is_ours(c)), style)
        return response_id, items

    def _responses_item(self, turn: Turn, turn_index: int, style: str | None) -> dict[str, Any]:
        if isinstance(turn, Say):
            return {"id": self._new_id("msg", turn_index), "type": "message", "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": turn.text, "annotations": []}]}
        call_id = self._new_id("call", turn_index)
        if isinstance(turn, ToolCall):
            return {"id": "fc_" + call_id, "type": "function_call", "status": "completed",
                    "call_id": call_id, "name": turn.name, "arguments": json.dumps(turn.arguments)}
        if style == "codex_exec":
            source = (f"const r = await tools.exec_command({{cmd: {json.dumps(turn.command)}, "
                      "max_output_tokens: 100000, yield_time_ms: 30000});\ntext(r.output);\n")
            return {"id": "ctc_" + call_id, "type": "custom_tool_call", "status": "completed",
                    "call_id": call_id, "name": "exec", "input": source}
        if style == "local_shell":
            return {"id": "lsh_" + call_id, "type": "local_shell_call", "status": "completed",
                    "call_id": call_id,
                    "action": {"type": "exec", "command": ["bash", "-lc", turn.command]}}
        if style == "shell":
            arguments = {"command": ["bash", "-lc", turn.command]}
            return {"id": "fc_" + call_id, "type": "function_call", "status": "completed",
                    "call_id": call_id, "name": "shell", "arguments": json.dumps(arguments)}
        return {"id": "fc_" + call_id, "type": "function_call", "status": "completed",
                "call_id": call_id, "name": "exec_command", "arguments": json.dumps({"cmd": turn.command})}

    def _response_object(self, payload: dict[str, Any], response_id: str,
                         items: list[dict[str, Any]], completed: bool) -> dict[str, Any]:
        usage = OPENAI_RESPONSES_USAGE
        return {
            "id": response_id, "object": "response", "created_at": 1750000000,
            "status": "completed" if completed else "in_progress",
            "model": self.model or payload.get("model", "gpt-5"),
            "output": items if completed else [], "parallel_tool_calls": False,
            "tool_choice": "auto", "tools": [],
            "usage": {"input_tokens": usage["input_tokens"], "output_tokens": usage["output_tokens"],
                      "total_tokens": usage["input_tokens"] + usage["output_tokens"],
                      "input_tokens_details": {"cached_tokens": usage["cached_tokens"]},
                      "output_tokens_details": {"reasoning_tokens": 0}} if completed else None,
        }

    def responses_object(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A non-streamed Responses answer."""
        response_id, items = self._responses_output(payload)
        return self._response_object(payload, response_id, items, completed=True)

    def responses_events(self, payload: dict[str, Any]) -> Events:
        """A streamed Responses answer (SSE data or WebSocket messages)."""
        response_id, items = self._responses_output(payload)
        in_progress = self._response_object(payload, response_id, items, completed=False)
        events: list[tuple[str, dict[str, Any]]] = [
            ("response.created", {"response": in_progress}),
            ("response.in_progress", {"response": in_progress}),
        ]
        for index, item in enumerate(items):
            events += _item_events(index, item)
        events.append(("response.completed",
                       {"response": self._response_object(payload, response_id, items, completed=True)}))
        for number, (name, data) in enumerate(events):
            yield name, {"type": name, "sequence_number": number, **data}


def _item_events(index: int, item: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    where = {"item_id": item["id"], "output_index": index}
    kind = item["type"]
    if kind == "message":
        part = item["content"][0]
        return [
            ("response.output_item.added", {"output_index": index,
                                            "item": {**item, "status": "in_progress", "content": []}}),
            ("response.content_part.added", {**where, "content_index": 0, "part": {**part, "text": ""}}),
            ("response.output_text.delta", {**where, "content_index": 0, "delta": part["text"]}),
            ("response.output_text.done", {**where, "content_index": 0, "text": part["text"]}),
            ("response.content_part.done", {**where, "content_index": 0, "part": part}),
            ("response.output_item.done", {"output_index": index, "item": item}),
        ]
    added = {"output_index": index, "item": {**item, "status": "in_progress"}}
    events: list[tuple[str, dict[str, Any]]] = []
    if kind == "custom_tool_call":
        added["item"]["input"] = ""
        events = [("response.custom_tool_call_input.delta", {**where, "delta": item["input"]}),
                  ("response.custom_tool_call_input.done", {**where, "input": item["input"]})]
    elif kind == "function_call":
        added["item"]["arguments"] = ""
        events = [("response.function_call_arguments.delta", {**where, "delta": item["arguments"]}),
                  ("response.function_call_arguments.done", {**where, "arguments": item["arguments"]})]
    return [("response.output_item.added", added), *events,
            ("response.output_item.done", {"output_index": index, "item": item})]
