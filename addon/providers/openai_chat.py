"""OpenAI Chat Completions (``/chat/completions``), also spoken by OpenRouter and most gateways.

Tool outputs are ``role: "tool"`` messages (``content`` a string or a list of ``text`` parts)
answering an assistant's ``tool_calls``, and legacy ``role: "function"`` messages answering a
``function_call``.
"""

from __future__ import annotations

from typing import Any

from headroom_mitm.addon.providers._base import (
    StreamParser as _StreamParserBase,
    WireFormat,
    as_dict,
    as_int,
    as_list,
    as_str,
    find_working_directory,
    parse_arguments,
    text_blocks,
    text_parts,
    upsert_tool_call,
)
from headroom_mitm.addon.framing import Message
from headroom_mitm.addon.providers._summary import ResponseSummary, ToolCall, Usage
from headroom_mitm.addon.tool_output import ToolOutput

__all__ = ["OpenAIChatFormat", "StreamParser", "FORMAT"]


class OpenAIChatFormat(WireFormat):
    name = "openai-chat"

    def tool_results(self, doc: Any) -> list[ToolOutput]:
        calls: dict[str, tuple[str, Any]] = {}
        legacy_calls: dict[str, Any] = {}  # function name -> arguments of its latest call
        outputs: list[ToolOutput] = []
        for turn, message in enumerate(as_list(as_dict(doc).get("messages"))):
            message = as_dict(message)
            role = message.get("role")
            if role == "assistant":
                for call in as_list(message.get("tool_calls")):
                    call = as_dict(call)
                    function = as_dict(call.get("function"))
                    calls[as_str(call.get("id"))] = (
                        as_str(function.get("name")),
                        parse_arguments(function.get("arguments")),
                    )
                legacy = as_dict(message.get("function_call"))
                if legacy:
                    legacy_calls[as_str(legacy.get("name"))] = parse_arguments(legacy.get("arguments"))
            elif role == "tool":
                call_id = as_str(message.get("tool_call_id"))
                name, arguments = calls.get(call_id, ("", None))
                outputs.extend(self._texts(turn, message, name, arguments, call_id))
            elif role == "function":
                name = as_str(message.get("name"))
                outputs.extend(self._texts(turn, message, name, legacy_calls.get(name), ""))
        return outputs

    def _texts(
        self, turn: int, message: dict[str, Any], name: str, arguments: Any, call_id: str
    ) -> list[ToolOutput]:
        content = message.get("content")
        if isinstance(content, str):
            texts = [(("messages", turn, "content"), 0, content)]
        else:
            texts = [
                (("messages", turn, "content", part, "text"), part, block["text"])
                for part, block in enumerate(as_list(content))
                if as_dict(block).get("type") == "text" and isinstance(block.get("text"), str)
            ]
        return [
            ToolOutput(provider=self.name, path=path, text=text, tool_name=name,
                       arguments=arguments, call_id=call_id, turn=turn, part=part)
            for path, part, text in texts
        ]

    def messages(self, doc: Any) -> list[Message]:
        return [
            Message(turn, as_str(as_dict(message).get("role")),
                    text_parts(("messages", turn, "content"), as_dict(message).get("content"), "text"))
            for turn, message in enumerate(as_list(as_dict(doc).get("messages")))
        ]

    def session_hint(self, doc: Any) -> str | None:
        key = as_dict(doc).get("prompt_cache_key")
        return key if isinstance(key, str) and key else None

    def working_directory(self, doc: Any) -> str | None:
        texts = (
            text
            for message in as_list(as_dict(doc).get("messages"))
            if as_dict(message).get("role") in ("system", "developer")
            for text in text_blocks(message.get("content"), "text")
        )
        return find_working_directory(texts)

    def _summarise(self, doc: dict[str, Any], summary: ResponseSummary) -> None:
        if "error" in doc and "choices" not in doc:
            summary.error = error_message(doc.get("error"))
            return
        summary.events = 1
        summary.response_id = as_str(doc.get("id")) or None
        summary.model = as_str(doc.get("model")) or None
        summary.usage = usage_from_fields(as_dict(doc.get("usage")))
        for choice in as_list(doc.get("choices")):
            choice = as_dict(choice)
            if summary.stop_reason is None and isinstance(choice.get("finish_reason"), str):
                summary.stop_reason = choice["finish_reason"]
            message = as_dict(choice.get("message"))
            for call in as_list(message.get("tool_calls")):
                call = as_dict(call)
                function = as_dict(call.get("function"))
                summary.tool_calls.append(ToolCall(
                    id=as_str(call.get("id")),
                    name=as_str(function.get("name")),
                    arguments=as_str(function.get("arguments")),
                ))
            legacy = as_dict(message.get("function_call"))
            if legacy:
                summary.tool_calls.append(ToolCall(
                    name=as_str(legacy.get("name")), arguments=as_str(legacy.get("arguments"))))

    def stream_parser(self) -> "StreamParser":
        return StreamParser()


def usage_from_fields(fields: dict[str, Any]) -> Usage:
    prompt_details = as_dict(fields.get("prompt_tokens_details"))
    completion_details = as_dict(fields.get("completion_tokens_details"))
    return Usage(
        input_tokens=as_int(fields.get("prompt_tokens")),
        output_tokens=as_int(fields.get("completion_tokens")),
        cache_read_tokens=as_int(prompt_details.get("cached_tokens")),
        # OpenRouter reports prompt-cache writes for providers that bill them
        cache_write_tokens=as_int(prompt_details.get("cache_write_tokens")),
        reasoning_tokens=as_int(completion_details.get("reasoning_tokens")),
    )


def error_message(error: Any) -> str:
    if isinstance(error, str):
        return error or "error"
    return as_str(as_dict(error).get("message")) or "error"


class StreamParser(_StreamParserBase):
    """``chat.completion.chunk`` objects into a summary; usage comes in the final chunk."""

    def __init__(self) -> None:
        super().__init__()
        self._calls: dict[tuple[int, Any], ToolCall] = {}

    def on_object(self, event: str, obj: dict[str, Any]) -> None:
        summary = self.summary
        if "error" in obj and "choices" not in obj:
            summary.error = error_message(obj.get("error"))
            return
        summary.response_id = as_str(obj.get("id")) or summary.response_id
        summary.model = as_str(obj.get("model")) or summary.model
        usage = as_dict(obj.get("usage"))
        if usage:
            summary.usage = usage_from_fields(usage)
        for choice in as_list(obj.get("choices")):
            choice = as_dict(choice)
            choice_index = as_int(choice.get("index"))
            if isinstance(choice.get("finish_reason"), str) and (
                choice_index == 0 or summary.stop_reason is None
            ):
                summary.stop_reason = choice["finish_reason"]
            delta = as_dict(choice.get("delta"))
            for position, fragment in enumerate(as_list(delta.get("tool_calls"))):
                fragment = as_dict(fragment)
                call_index = fragment.get("index", position)
                self._add_fragment((choice_index, call_index), fragment)
            legacy = as_dict(delta.get("function_call"))
            if legacy:
                self._add_fragment((choice_index, "function_call"), {"function": legacy})

    def _add_fragment(self, key: tuple[int, Any], fragment: dict[str, Any]) -> None:
        call = upsert_tool_call(self.summary, key, self._calls)
        call.id = as_str(fragment.get("id")) or call.id
        function = as_dict(fragment.get("function"))
        if not call.name:  # the name arrives once, in the first fragment
            call.name = as_str(function.get("name"))
        call.arguments += as_str(function.get("arguments"))


FORMAT = OpenAIChatFormat()
