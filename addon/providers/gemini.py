"""Google Gemini ``generateContent`` / ``streamGenerateContent`` (AI Studio and Vertex AI).

Tool outputs are ``functionResponse`` parts; their ``response`` is a free-form object, so every
string leaf in it is one output (commonly ``response.output``, ``.result`` or ``.content``).
A response answers the ``functionCall`` with the same ``id`` when the client sends ids, else the
next unanswered call of the same name in the latest model turn. The model is named in the URL,
not the body, so ``for_request`` builds a format bound to the request's path.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any, Iterator

from headroom_mitm.addon.providers._base import (
    StreamParser as _StreamParserBase,
    WireFormat,
    arguments_text,
    as_dict,
    as_int,
    as_list,
    as_str,
    find_working_directory,
)
from headroom_mitm.addon.framing import Message
from headroom_mitm.addon.providers._partial_args import PartialCall
from headroom_mitm.addon.providers._summary import ResponseSummary, ToolCall, Usage
from headroom_mitm.addon.tool_output import JsonPath, ToolOutput

__all__ = ["GeminiFormat", "StreamParser", "model_from_path"]

_MODEL_IN_PATH = re.compile(r"/models/([^/:?]+):")
_MAX_ARRAY_BUFFER = 64 * 1024 * 1024


def model_from_path(path: str) -> str:
    match = _MODEL_IN_PATH.search(path)
    return match.group(1) if match else ""


def _string_leaves(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _string_leaves(inner, path + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _string_leaves(inner, path + (index,))


class GeminiFormat(WireFormat):
    name = "gemini"

    def __init__(self, path_model: str = "") -> None:
        self.path_model = path_model

    def tool_results(self, doc: Any) -> list[ToolOutput]:
        by_id: dict[str, tuple[str, Any]] = {}
        unanswered: list[tuple[str, Any, str]] = []  # calls of the latest model turn, in order
        outputs: list[ToolOutput] = []
        for turn, content in enumerate(as_list(as_dict(doc).get("contents"))):
            parts = as_list(as_dict(content).get("parts"))
            if any("functionCall" in as_dict(part) for part in parts):
                unanswered = []
            for index, part in enumerate(parts):
                part = as_dict(part)
                call = as_dict(part.get("functionCall"))
                if call:
                    name, args, call_id = as_str(call.get("name")), call.get("args"), as_str(call.get("id"))
                    unanswered.append((name, args, call_id))
                    if call_id:
                        by_id[call_id] = (name, args)
                response = as_dict(part.get("functionResponse"))
                if response:
                    outputs.extend(self._leaves(turn, index, response, by_id, unanswered))
        return outputs

    def _leaves(self, turn: int, index: int, response: dict[str, Any],
                by_id: dict[str, tuple[str, Any]],
                unanswered: list[tuple[str, Any, str]]) -> list[ToolOutput]:
        name, call_id = as_str(response.get("name")), as_str(response.get("id"))
        arguments = None
        for position, (call_name, call_args, pending_id) in enumerate(unanswered):
            if (call_id and pending_id == call_id) or (not call_id and call_name == name):
                arguments, call_id = call_args, call_id or pending_id
                del unanswered[position]
                break
        else:
            if call_id in by_id:
                name, arguments = by_id[call_id][0] or name, by_id[call_id][1]
        base = ("contents", turn, "parts", index, "functionResponse", "response")
        return [
            ToolOutput(provider=self.name, path=path, text=text, tool_name=name,
                       arguments=arguments, call_id=call_id, turn=turn, part=leaf,
                       extra={"part_index": index})
            for leaf, (path, text) in enumerate(_string_leaves(response.get("response"), base))
        ]

    def messages(self, doc: Any) -> list[Message]:
        messages = []
        for turn, content in enumerate(as_list(as_dict(doc).get("contents"))):
            content = as_dict(content)
            texts = tuple(
                (("contents", turn, "parts", index, "text"), part["text"])
                for index, part in enumerate(map(as_dict, as_list(content.get("parts"))))
                if isinstance(part.get("text"), str) and not part.get("thought")
            )
            messages.append(Message(turn, as_str(content.get("role")) or "user", texts))
        return messages

    def model(self, doc: Any) -> str:
        return self.path_model or super().model(doc)

    def is_streaming(self, doc: Any, path: str) -> bool:
        return ":streamGenerateContent" in path

    def working_directory(self, doc: Any) -> str | None:
        doc = as_dict(doc)
        system = as_dict(doc.get("systemInstruction") or doc.get("system_instruction"))
        texts = [as_str(as_dict(part).get("text")) for part in as_list(system.get("parts"))]
        first = as_dict(next(iter(as_list(doc.get("contents"))), None))
        texts += [as_str(as_dict(part).get("text")) for part in as_list(first.get("parts"))]
        return find_working_directory(texts)

    def summary_from_response(self, doc: Any) -> ResponseSummary:
        # streamGenerateContent without ?alt=sse answers with a JSON array of chunks
        parser = StreamParser()
        for chunk in doc if isinstance(doc, list) else [doc]:
            if isinstance(chunk, dict):
                parser.summary.events += 1
                parser.on_object("", chunk)
        return parser.summary

    def stream_parser(self) -> "StreamParser":
        return StreamParser()


def usage_from_fields(fields: dict[str, Any]) -> Usage:
    thoughts = as_int(fields.get("thoughtsTokenCount"))
    return Usage(
        input_tokens=as_int(fields.get("promptTokenCount")) + as_int(fields.get("toolUsePromptTokenCount")),
        output_tokens=as_int(fields.get("candidatesTokenCount")) + thoughts,
        cache_read_tokens=as_int(fields.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )


class StreamParser(_StreamParserBase):
    """Gemini chunks, as SSE (``?alt=sse``) or as one streamed JSON array, into a summary."""

    def __init__(self) -> None:
        super().__init__()
        self._mode = ""  # "sse" or "array", decided by the first visible byte
        self._open: tuple[ToolCall, PartialCall] | None = None  # a call whose next part is due
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._text = ""

    def feed(self, chunk: bytes) -> None:
        if self._failed or not chunk:
            return
        if not self._mode:
            visible = bytes(chunk).lstrip()
            if not visible:
                self._text += self._utf8.decode(bytes(chunk))
                return
            self._mode = "array" if visible[:1] == b"[" else "sse"
            if self._mode == "sse" and self._text:
                chunk, self._text = self._text.encode() + bytes(chunk), ""
        if self._mode == "sse":
            super().feed(chunk)
            return
        try:
            self._text += self._utf8.decode(bytes(chunk))
            self._drain_array()
        except Exception:
            self._fail()

    def _drain_array(self) -> None:
        text, position = self._text, 0
        decoder = json.JSONDecoder()
        while position < len(text):
            char = text[position]
            if char in " \t\r\n,[]":
                position += 1
                continue
            if char != "{":  # not a chunk: skip to the next object
                next_object = text.find("{", position)
                position = len(text) if next_object < 0 else next_object
                continue
            try:
                obj, end = decoder.raw_decode(text, position)
            except ValueError:
                break  # most likely incomplete: wait for more bytes
            self.summary.events += 1
            self.on_object("", obj)
            position = end
        self._text = text[position:]
        if len(self._text) > _MAX_ARRAY_BUFFER:
            self._fail()

    def on_object(self, event: str, obj: dict[str, Any]) -> None:
        summary = self.summary
        if "error" in obj and "candidates" not in obj:
            summary.error = as_str(as_dict(obj.get("error")).get("message")) or "error"
            return
        summary.response_id = as_str(obj.get("responseId")) or summary.response_id
        summary.model = as_str(obj.get("modelVersion")) or summary.model
        usage = as_dict(obj.get("usageMetadata"))
        if usage:
            summary.usage = usage_from_fields(usage)
        for candidate in as_list(obj.get("candidates"))[:1]:  # one candidate is what agents ask
            candidate = as_dict(candidate)
            if isinstance(candidate.get("finishReason"), str):
                summary.stop_reason = candidate["finishReason"]
            for part in as_list(as_dict(candidate.get("content")).get("parts")):
                call = as_dict(part).get("functionCall")
                if isinstance(call, dict) and (call or self._open is not None):
                    self._take_call(call)

    def _take_call(self, call: dict[str, Any]) -> None:
        """A whole function call, or one part of a call whose arguments stream in pieces
        (``willContinue``): the parts of one call are one ``ToolCall``."""
        streamed = "partialArgs" in call or call.get("willContinue") is True
        if self._open is None and not streamed:
            self.summary.tool_calls.append(ToolCall(
                id=as_str(call.get("id")), name=as_str(call.get("name")), arguments=arguments_text(call.get("args"))))
            return
        if self._open is None:
            self._open = (ToolCall(), PartialCall())
            self.summary.tool_calls.append(self._open[0])
        tool_call, arguments = self._open
        tool_call.id = tool_call.id or as_str(call.get("id"))
        tool_call.name = tool_call.name or as_str(call.get("name"))
        arguments.add(call)
        tool_call.arguments = arguments.text()
        if call.get("willContinue") is not True:
            self._open = None
