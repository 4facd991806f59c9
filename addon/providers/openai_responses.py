"""OpenAI Responses (``/responses``): the OpenAI SDKs and Codex, over HTTP or WebSocket.

Tool outputs are ``input`` items answering an earlier call item by ``call_id``:
``function_call_output`` (``output`` a string or a list of ``input_text`` parts),
``custom_tool_call_output``, ``local_shell_call_output`` (its output a JSON text, unwrapped by
the ``shell-json`` framing) and ``apply_patch_call_output``; ``shell_call_output`` holds one
``stdout`` and ``stderr`` per command with its exit outcome; an ``mcp_call`` item carries its own
``output``. ``/responses/compact`` is not a conversation turn (see ``for_request``). Codex's WebSocket sends
``{"type": "response.create", ...}`` whose other fields are a Responses body (or, in some
versions, nested under ``response``); ``extract`` takes either.
"""

from __future__ import annotations

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
    parse_arguments,
    text_blocks,
    text_parts,
    upsert_tool_call,
)
from headroom_mitm.addon.framing import Message
from headroom_mitm.addon.providers._summary import ResponseSummary, ToolCall, Usage
from headroom_mitm.addon.retrieval import tool_names
from headroom_mitm.addon.tool_output import JsonPath, ToolOutput

__all__ = ["OpenAIResponsesFormat", "StreamParser", "FORMAT", "summary_from_ws_message"]

_OUTPUT_ITEMS = (
    "function_call_output",
    "custom_tool_call_output",
    "local_shell_call_output",
    "apply_patch_call_output",
)
_CALL_ITEMS = ("function_call", "custom_tool_call", "local_shell_call", "shell_call", "apply_patch_call",
               "mcp_call")
_SHELL_STREAMS = ("stdout", "stderr")
_OUTPUT_TEXT_PARTS = ("input_text", "output_text")
_FINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed", "response.done")


def _body_and_prefix(doc: Any) -> tuple[dict[str, Any], JsonPath]:
    """The Responses body inside an HTTP body or a WebSocket ``response.create`` message."""
    doc = as_dict(doc)
    nested = doc.get("response")
    if doc.get("type") == "response.create" and "input" not in doc and isinstance(nested, dict):
        return nested, ("response",)
    return doc, ()


def _call_of(item: dict[str, Any]) -> tuple[str, Any]:
    """(tool name, arguments) of a call item, as a tool output's context."""
    kind = item.get("type")
    if kind == "function_call" or kind == "mcp_call":
        return as_str(item.get("name")), parse_arguments(item.get("arguments"))
    if kind == "custom_tool_call":
        return as_str(item.get("name")), item.get("input")
    if kind == "local_shell_call":
        return "local_shell", item.get("action")
    if kind == "shell_call":
        return "shell", item.get("action")
    return "apply_patch", item.get("operation")


def _call_text(item: dict[str, Any]) -> ToolCall:
    name, _ = _call_of(item)
    kind = item.get("type")
    if kind == "custom_tool_call":
        arguments = as_str(item.get("input"))
    elif kind in ("function_call", "mcp_call"):
        arguments = as_str(item.get("arguments"))
    else:
        arguments = arguments_text(item.get("action") or item.get("operation"))
    return ToolCall(id=as_str(item.get("call_id")) or as_str(item.get("id")), name=name,
                    arguments=arguments)


class OpenAIResponsesFormat(WireFormat):
    name = "openai-responses"

    def tool_results(self, doc: Any) -> list[ToolOutput]:
        body, prefix = _body_and_prefix(doc)
        calls: dict[str, tuple[str, Any]] = {}
        outputs: list[ToolOutput] = []
        for turn, item in enumerate(as_list(body.get("input"))):  # a plain-string input has none
            item = as_dict(item)
            kind = item.get("type")
            if kind in _CALL_ITEMS:
                for key in (as_str(item.get("call_id")), as_str(item.get("id"))):
                    if key:
                        calls[key] = _call_of(item)
            if kind == "shell_call_output":
                call_id = as_str(item.get("call_id"))
                name, arguments = calls.get(call_id, ("shell", None))
                outputs.extend(self._shell_texts(prefix + ("input", turn, "output"), turn, item.get("output"),
                                                 name, arguments, call_id))
            elif kind in _OUTPUT_ITEMS or kind == "mcp_call":
                # local_shell_call_output names its call by "id"; mcp_call is its own call
                call_id = as_str(item.get("call_id")) or as_str(item.get("id"))
                name, arguments = calls.get(call_id, ("", None))
                base = prefix + ("input", turn, "output")
                outputs.extend(self._texts(base, turn, item.get("output"), name, arguments,
                                           call_id, kind))
        return outputs

    def _texts(self, base: JsonPath, turn: int, output: Any, name: str, arguments: Any,
               call_id: str, kind: Any) -> list[ToolOutput]:
        if isinstance(output, str):
            texts = [(base, 0, output)]
        else:
            texts = [
                (base + (part, "text"), part, block["text"])
                for part, block in enumerate(as_list(output))
                if as_dict(block).get("type") in _OUTPUT_TEXT_PARTS
                and isinstance(block.get("text"), str)
            ]
        return [
            ToolOutput(provider=self.name, path=path, text=text, tool_name=name,
                       arguments=arguments, call_id=call_id, turn=turn, part=part,
                       extra={"item_type": kind})
            for path, part, text in texts
        ]

    def _shell_texts(self, base: JsonPath, turn: int, output: Any, name: str, arguments: Any,
                     call_id: str) -> list[ToolOutput]:
        """``shell_call_output``: per command run, its stdout and stderr, and its outcome (an
        exit code, or a timeout, which is a failure)."""
        found = []
        for index, run in enumerate(map(as_dict, as_list(output))):
            outcome = as_dict(run.get("outcome"))
            code = outcome.get("exit_code")
            exit_code = code if isinstance(code, int) and not isinstance(code, bool) else None
            failed = outcome.get("type") == "timeout" or exit_code not in (None, 0)
            for stream in _SHELL_STREAMS:
                if isinstance(run.get(stream), str) and (run[stream] or stream == "stdout"):
                    found.append(ToolOutput(
                        provider=self.name, path=base + (index, stream), text=run[stream], tool_name=name,
                        arguments=arguments, call_id=call_id, is_error=failed, turn=turn, part=len(found),
                        exit_code=exit_code, extra={"item_type": "shell_call_output"}))
        return found

    def messages(self, doc: Any) -> list[Message]:
        body, prefix = _body_and_prefix(doc)
        return [
            Message(turn, as_str(item.get("role")),
                    text_parts(prefix + ("input", turn, "content"), item.get("content"), *_OUTPUT_TEXT_PARTS))
            for turn, item in enumerate(map(as_dict, as_list(body.get("input"))))
            if item.get("type", "message") == "message"
        ]

    def model(self, doc: Any) -> str:
        return super().model(_body_and_prefix(doc)[0])

    def tool_names(self, doc: Any) -> frozenset[str]:
        """Top-level tools, and those Codex declares in an ``additional_tools`` input item."""
        body = _body_and_prefix(doc)[0]
        extra = [item.get("tools") for item in map(as_dict, as_list(body.get("input")))
                 if item.get("type") == "additional_tools"]
        return frozenset(tool_names([body.get("tools"), *extra]))

    def is_streaming(self, doc: Any, path: str) -> bool:
        if as_dict(doc).get("type") == "response.create":
            return True  # every WebSocket response arrives as events
        return super().is_streaming(doc, path)

    def session_hint(self, doc: Any) -> str | None:
        key = _body_and_prefix(doc)[0].get("prompt_cache_key")
        return key if isinstance(key, str) and key else None

    def working_directory(self, doc: Any) -> str | None:
        body = _body_and_prefix(doc)[0]
        texts: list[str] = [as_str(body.get("instructions"))]
        for item in as_list(body.get("input")):
            item = as_dict(item)
            if item.get("role") in ("user", "developer", "system") and item.get("type", "message") == "message":
                texts.extend(text_blocks(item.get("content"), *_OUTPUT_TEXT_PARTS))
        return find_working_directory(texts)

    def _summarise(self, doc: dict[str, Any], summary: ResponseSummary) -> None:
        if "error" in doc and doc.get("object") != "response":
            summary.error = as_str(as_dict(doc.get("error")).get("message")) or "error"
            return
        summary.events = 1
        take_response(summary, doc, with_tool_calls=True)

    def stream_parser(self) -> "StreamParser":
        return StreamParser()


def usage_from_fields(fields: dict[str, Any]) -> Usage:
    return Usage(
        input_tokens=as_int(fields.get("input_tokens")),
        output_tokens=as_int(fields.get("output_tokens")),
        cache_read_tokens=as_int(as_dict(fields.get("input_tokens_details")).get("cached_tokens")),
        reasoning_tokens=as_int(
            as_dict(fields.get("output_tokens_details")).get("reasoning_tokens")),
    )


def take_response(summary: ResponseSummary, response: dict[str, Any], with_tool_calls: bool) -> None:
    """Copy what a full response object says into the summary."""
    summary.response_id = as_str(response.get("id")) or summary.response_id
    summary.model = as_str(response.get("model")) or summary.model
    usage = as_dict(response.get("usage"))
    if usage:
        summary.usage = usage_from_fields(usage)
    status = as_str(response.get("status"))
    if status == "incomplete":
        reason = as_str(as_dict(response.get("incomplete_details")).get("reason"))
        summary.stop_reason = reason or status
    elif status in ("completed", "failed", "cancelled"):
        summary.stop_reason = status
    error = as_dict(response.get("error"))
    if error:
        summary.error = as_str(error.get("message")) or "error"
    if with_tool_calls:
        for item in as_list(response.get("output")):
            item = as_dict(item)
            if item.get("type") in _CALL_ITEMS:
                summary.tool_calls.append(_call_text(item))


class StreamParser(_StreamParserBase):
    """Responses stream events (SSE ``data`` or WebSocket text frames) into a summary."""

    def __init__(self) -> None:
        super().__init__()
        self._calls: dict[Any, ToolCall] = {}
        self._item_keys: dict[str, Any] = {}  # item id -> output_index it was announced at

    def on_object(self, event: str, obj: dict[str, Any]) -> None:
        kind = as_str(obj.get("type")) or event
        summary = self.summary
        if kind in ("response.created", "response.in_progress"):
            take_response(summary, as_dict(obj.get("response")), with_tool_calls=False)
        elif kind in _FINAL_EVENTS:
            # the final response lists every output item: use it if the stream announced none
            take_response(summary, as_dict(obj.get("response")), with_tool_calls=not self._calls)
        elif kind in ("response.output_item.added", "response.output_item.done"):
            item = as_dict(obj.get("item"))
            if item.get("type") in _CALL_ITEMS:
                call = upsert_tool_call(summary, self._key(obj, item.get("id")), self._calls)
                complete = _call_text(item)
                call.id, call.name = complete.id or call.id, complete.name or call.name
                if complete.arguments or kind.endswith(".done"):
                    call.arguments = complete.arguments
        elif kind in ("response.function_call_arguments.delta",
                      "response.custom_tool_call_input.delta"):
            call = self._calls.get(self._key(obj, obj.get("item_id")))
            if call is not None:
                call.arguments += as_str(obj.get("delta"))
        elif kind == "response.function_call_arguments.done":
            self._set_arguments(obj, obj.get("arguments"))
        elif kind == "response.custom_tool_call_input.done":
            self._set_arguments(obj, obj.get("input"))
        elif kind == "error":
            error = as_dict(obj.get("error")) or obj
            summary.error = as_str(error.get("message")) or "error"

    def _key(self, obj: dict[str, Any], item_id: Any) -> Any:
        item_id = as_str(item_id)
        if "output_index" in obj:
            key = as_int(obj.get("output_index"))
            if item_id:
                self._item_keys.setdefault(item_id, key)
            return key
        return self._item_keys.get(item_id, item_id)

    def _set_arguments(self, obj: dict[str, Any], text: Any) -> None:
        call = self._calls.get(self._key(obj, obj.get("item_id")))
        if call is not None and isinstance(text, str):
            call.arguments = text


def summary_from_ws_message(text: str) -> ResponseSummary:
    """What one server->client WebSocket frame (a Responses event as JSON text) says on its own.

    To follow a whole response, feed every frame to one ``StreamParser`` with ``feed_event``.
    """
    parser = StreamParser()
    parser.feed_event(text)
    return parser.summary


FORMAT = OpenAIResponsesFormat()
