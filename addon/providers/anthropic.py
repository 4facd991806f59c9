"""Anthropic Messages (``/v1/messages``): Claude Code and the Anthropic SDKs.

Tool outputs are ``tool_result`` blocks in user messages; their ``content`` is a string or a list
of blocks of which only ``text`` blocks are outputs to rewrite (images and documents are not).
Server-tool results (``web_search_tool_result`` and the like) belong to the provider, not to
the agent's tools, and are left alone.
"""

from __future__ import annotations

import json
import re
from typing import Any

from headroom_mitm.addon.providers._base import (
    StreamParser as _StreamParserBase,
    WireFormat,
    arguments_text,
    as_dict,
    as_int,
    as_list,
    as_str,
    find_working_directory,
    text_blocks,
    text_parts,
    upsert_tool_call,
)
from headroom_mitm.addon.framing import Message
from headroom_mitm.addon.providers._summary import ResponseSummary, ToolCall, Usage
from headroom_mitm.addon.tool_output import ToolOutput

__all__ = ["AnthropicFormat", "StreamParser", "FORMAT"]

# Claude Code's metadata.user_id: "user_<hash>_account_<uuid>_session_<uuid>" (older versions)
_SESSION_IN_USER_ID = re.compile(r"_session_([0-9A-Za-z-]+)")
_TOOL_CALL_BLOCKS = ("tool_use", "server_tool_use", "mcp_tool_use")
# Claude Code's attestation: the first system block, a hash of the body in cch= (see rules/credentials.py)
_BILLING_LINE = "x-anthropic-billing-header:"
_ATTESTATION_VALUE = re.compile(r"(?:^|[;\s])cch=[0-9A-Za-z]+;")


class AnthropicFormat(WireFormat):
    name = "anthropic"

    def tool_results(self, doc: Any) -> list[ToolOutput]:
        calls: dict[str, tuple[str, Any]] = {}
        outputs: list[ToolOutput] = []
        for turn, message in enumerate(as_list(as_dict(doc).get("messages"))):
            for index, block in enumerate(as_list(as_dict(message).get("content"))):
                block = as_dict(block)
                kind = block.get("type")
                if kind in _TOOL_CALL_BLOCKS:
                    calls[as_str(block.get("id"))] = (as_str(block.get("name")), block.get("input"))
                elif kind == "tool_result":
                    outputs.extend(self._result_texts(turn, index, block, calls))
        return outputs

    def _result_texts(
        self, turn: int, index: int, block: dict[str, Any], calls: dict[str, tuple[str, Any]]
    ) -> list[ToolOutput]:
        call_id = as_str(block.get("tool_use_id"))
        tool_name, arguments = calls.get(call_id, ("", None))
        base = ("messages", turn, "content", index, "content")
        content = block.get("content")
        if isinstance(content, str):
            texts = [(base, 0, content)]
        else:
            texts = [
                (base + (part, "text"), part, inner["text"])
                for part, inner in enumerate(as_list(content))
                if as_dict(inner).get("type") == "text" and isinstance(inner.get("text"), str)
            ]
        return [
            ToolOutput(
                provider=self.name,
                path=path,
                text=text,
                tool_name=tool_name,
                arguments=arguments,
                call_id=call_id,
                is_error=block.get("is_error") is True,
                turn=turn,
                part=part,
                extra={"block": index},
            )
            for path, part, text in texts
        ]

    def messages(self, doc: Any) -> list[Message]:
        return [
            Message(turn, as_str(as_dict(message).get("role")),
                    text_parts(("messages", turn, "content"), as_dict(message).get("content"), "text"))
            for turn, message in enumerate(as_list(as_dict(doc).get("messages")))
        ]

    def session_hint(self, doc: Any) -> str | None:
        user_id = as_dict(as_dict(doc).get("metadata")).get("user_id")
        if not isinstance(user_id, str):
            return None
        if user_id.lstrip().startswith("{"):  # newer Claude Code: a JSON object as a string
            try:
                session = as_dict(json.loads(user_id)).get("session_id")
            except ValueError:
                session = None
            if isinstance(session, str) and session:
                return session
        match = _SESSION_IN_USER_ID.search(user_id)
        return match.group(1) if match else None

    def working_directory(self, doc: Any) -> str | None:
        system = as_dict(doc).get("system")
        return find_working_directory(text_blocks(system, "text"))

    def attestation(self, doc: Any) -> str | None:
        system = as_dict(doc).get("system")
        first = next(text_blocks(system, "text"), "") if system else ""
        line = first.strip()
        if line.startswith(_BILLING_LINE) and _ATTESTATION_VALUE.search(line):
            return line
        return None

    def _summarise(self, doc: dict[str, Any], summary: ResponseSummary) -> None:
        if doc.get("type") == "error":
            summary.error = as_str(as_dict(doc.get("error")).get("message")) or "error"
            return
        summary.events = 1
        summary.response_id = as_str(doc.get("id")) or None
        summary.model = as_str(doc.get("model")) or None
        summary.stop_reason = as_str(doc.get("stop_reason")) or None
        summary.usage = usage_from_fields(as_dict(doc.get("usage")))
        for block in as_list(doc.get("content")):
            block = as_dict(block)
            if block.get("type") in _TOOL_CALL_BLOCKS:
                summary.tool_calls.append(ToolCall(
                    id=as_str(block.get("id")),
                    name=as_str(block.get("name")),
                    arguments=arguments_text(block.get("input")),
                ))

    def stream_parser(self) -> "StreamParser":
        return StreamParser()


def usage_from_fields(fields: dict[str, Any]) -> Usage:
    cache_read = as_int(fields.get("cache_read_input_tokens"))
    cache_write = as_int(fields.get("cache_creation_input_tokens"))
    return Usage(
        input_tokens=as_int(fields.get("input_tokens")) + cache_read + cache_write,
        output_tokens=as_int(fields.get("output_tokens")),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        # Claude Code writes with the 1-hour lifetime, billed at twice the 5-minute rate
        cache_write_1h_tokens=min(cache_write, as_int(
            as_dict(fields.get("cache_creation")).get("ephemeral_1h_input_tokens"))),
    )


class StreamParser(_StreamParserBase):
    """message_start / content_block_* / message_delta events into a summary."""

    def __init__(self) -> None:
        super().__init__()
        self._usage_fields: dict[str, Any] = {}
        self._calls: dict[int, ToolCall] = {}
        self._initial_inputs: dict[int, Any] = {}

    def on_object(self, event: str, obj: dict[str, Any]) -> None:
        kind = obj.get("type") or event
        summary = self.summary
        if kind == "message_start":
            message = as_dict(obj.get("message"))
            summary.response_id = as_str(message.get("id")) or summary.response_id
            summary.model = as_str(message.get("model")) or summary.model
            self._take_usage(as_dict(message.get("usage")))
        elif kind == "content_block_start":
            block = as_dict(obj.get("content_block"))
            if block.get("type") in _TOOL_CALL_BLOCKS:
                index = as_int(obj.get("index"))
                call = upsert_tool_call(summary, index, self._calls)
                call.id = as_str(block.get("id"))
                call.name = as_str(block.get("name"))
                self._initial_inputs[index] = block.get("input")
        elif kind == "content_block_delta":
            delta = as_dict(obj.get("delta"))
            call = self._calls.get(as_int(obj.get("index")))
            if call is not None and delta.get("type") == "input_json_delta":
                call.arguments += as_str(delta.get("partial_json"))
        elif kind == "content_block_stop":
            self._fill_empty_arguments(as_int(obj.get("index")))
        elif kind == "message_delta":
            stop_reason = as_dict(obj.get("delta")).get("stop_reason")
            if isinstance(stop_reason, str):
                summary.stop_reason = stop_reason
            self._take_usage(as_dict(obj.get("usage")))
        elif kind == "error":
            summary.error = as_str(as_dict(obj.get("error")).get("message")) or "error"

    def _take_usage(self, fields: dict[str, Any]) -> None:
        # message_delta repeats only the counts that changed (always output_tokens)
        self._usage_fields.update({k: v for k, v in fields.items() if v is not None})
        self.summary.usage = usage_from_fields(self._usage_fields)

    def _fill_empty_arguments(self, index: int) -> None:
        call = self._calls.get(index)
        if call is not None and not call.arguments:  # a call with no input streams no deltas
            call.arguments = arguments_text(self._initial_inputs.get(index))

    def _finish(self) -> None:
        for index in self._calls:
            self._fill_empty_arguments(index)


FORMAT = AnthropicFormat()
