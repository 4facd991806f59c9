"""From a body's tool results and plain messages to the tool outputs the rest of the pipeline sees.

``framed_outputs`` takes what a wire format found (tool results, and every message's texts) and
applies the framings: a tool result in a known framing becomes its output pieces, with the
framing's exit code; a user message in a known framing that answers a command becomes a tool
output of that command. What it returns depends only on the body and the framings, so every
request of a conversation sees its earlier outputs the same way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Sequence

from headroom_mitm.rules.framing_shape import Framed, Framing
from headroom_mitm.addon.memo import LruMemo
from headroom_mitm.addon.tool_output import FramePart, JsonPath, ToolOutput

__all__ = ["Message", "framed_outputs", "is_text_call_id", "recognise", "text_call_id"]

_USER_ROLES = frozenset({"user"})
_ASSISTANT_ROLES = frozenset({"assistant", "model"})
_RECOGNISED: LruMemo[tuple[Sequence[Framing], str, Framed | None]] = LruMemo(
    16384, max_weight=64_000_000, weigh=lambda known: 2 * len(known[1]))
"""(framings, text) -> what matched. Each request resends every earlier output: one regex pass
per distinct text, not per request."""
_ANSWERS: LruMemo[tuple[Sequence[Framing], str, str | None, tuple[Framed, str] | None]] = LruMemo(
    16384, max_weight=64_000_000, weigh=lambda known: 2 * (len(known[1]) + len(known[2] or "")))
"""(framings, user message, assistant text before it) -> its framing and command, or None."""


@dataclass(frozen=True)
class Message:
    """A message's own texts, as a wire format reads them (tool results are not among them)."""

    turn: int
    role: str
    """"user", "assistant" (Gemini's "model" too), "system", ..."""
    texts: tuple[tuple[JsonPath, str], ...]
    """(path, text) of each text part, in order."""


def text_call_id(ordinal: int) -> str:
    """The call id of the ``ordinal``-th (from 1) text-framed output of a body. Such a message
    has no id of its own; its rank among the command outputs holds in every later request,
    even for an agent that moves its other messages around (aider moves the file contents)."""
    return f"step-{ordinal}"


def is_text_call_id(call_id: str) -> bool:
    """Whether ``call_id`` could be a ``text_call_id``: a rank that depends on every earlier turn."""
    return call_id.startswith("step-")


def recognise(text: str, framings: Sequence[Framing]) -> Framed | None:
    """The first framing whose shape ``text`` has (None when none does)."""
    key = (id(framings), len(text), hash(text))
    known = _RECOGNISED.get(key)
    if known is not None and known[0] is framings and known[1] == text:
        return known[2]
    found = next((framed for framing in framings if (framed := framing.match(text)) is not None), None)
    _RECOGNISED.put(key, (framings, text, found))
    return found


def framed_outputs(tool_outputs: Sequence[ToolOutput], messages: Callable[[], Sequence[Message]],
                   framings: Sequence[Framing], provider: str) -> list[ToolOutput]:
    """Tool results unframed, plus the text-framed outputs of user messages, in conversation
    order (a message's text-framed outputs after its tool results)."""
    if not framings:
        return list(tool_outputs)
    outputs: list[ToolOutput] = []
    for output in tool_outputs:
        framed = recognise(output.text, framings)
        outputs.extend(_pieces(output, framed) if framed is not None else (output,))
    from_text = _text_framed(messages(), framings, provider)
    if not from_text:
        return outputs
    return sorted(outputs + from_text, key=lambda output: output.turn)  # stable: ties keep their order


def _pieces(output: ToolOutput, framed: Framed) -> list[ToolOutput]:
    is_error = output.is_error or framed.is_error
    return [
        dataclasses.replace(output, text=piece.text, is_error=is_error, exit_code=framed.exit_code,
                            frame=FramePart(framed.frame, piece.key) if framed.frame is not None else None)
        for piece in framed.pieces
    ]


def _text_framed(messages: Sequence[Message], framings: Sequence[Framing], provider: str) -> list[ToolOutput]:
    outputs: list[ToolOutput] = []
    assistant_text: str | None = None
    for message in messages:
        if message.role in _ASSISTANT_ROLES:
            assistant_text = "\n".join(text for _, text in message.texts)
            continue
        if message.role in _USER_ROLES and message.texts:
            outputs.extend(_answers(message, assistant_text, framings, provider, len(outputs)))
        assistant_text = None  # a command is answered by the message right after it only
    return outputs


def _answers(message: Message, assistant_text: str | None, framings: Sequence[Framing],
             provider: str, before: int) -> list[ToolOutput]:
    outputs: list[ToolOutput] = []
    for part, (path, text) in enumerate(message.texts):
        framed = _answer(text, assistant_text, framings)
        if framed is None:
            continue
        framed, command = framed
        before += 1
        template = ToolOutput(provider=provider, path=path, text=text, tool_name=framed.framing.tool,
                              arguments={"command": command}, call_id=text_call_id(before),
                              turn=message.turn, part=part)
        outputs.extend(_pieces(template, framed))
    return outputs


def _answer(text: str, assistant_text: str | None,
            framings: Sequence[Framing]) -> tuple[Framed, str] | None:
    """The framing of a user message that is a command's output, and that command."""
    key = (id(framings), len(text), hash(text), hash(assistant_text))
    known = _ANSWERS.get(key)
    if known is not None and known[0] is framings and known[1] == text and known[2] == assistant_text:
        return known[3]
    found = _find_answer(text, assistant_text, framings)
    _ANSWERS.put(key, (framings, text, assistant_text, found))
    return found


def _find_answer(text: str, assistant_text: str | None,
                 framings: Sequence[Framing]) -> tuple[Framed, str] | None:
    for framing in framings:
        if framing.shape is None:
            continue  # a JSON observation always comes as a tool result
        if "command" in framing.shape.groupindex:
            framed = framing.match(text)
            command = framed.command if framed is not None else None
        else:
            command = framing.command_in(assistant_text) if assistant_text is not None else None
            framed = framing.match(text) if command is not None else None
        if framed is not None and command is not None:
            return framed, command
    return None


def clear_memo() -> None:
    _RECOGNISED.clear()
    _ANSWERS.clear()
