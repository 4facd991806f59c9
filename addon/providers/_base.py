"""What every wire format offers, and the plumbing their stream parsers share."""

from __future__ import annotations

import json
import logging
import re
from abc import ABC, abstractmethod
from typing import Any, Iterable, Iterator, Mapping, Sequence

from headroom_mitm.addon.framing import BUILTIN_FRAMINGS, Framing, Message, framed_outputs
from headroom_mitm.addon.providers._splice import splice
from headroom_mitm.addon.retrieval import tool_names
from headroom_mitm.addon.providers._sse import SseDecoder, SseEvent
from headroom_mitm.addon.providers._summary import ResponseSummary, ToolCall, Usage
from headroom_mitm.addon.tool_output import JsonPath, ToolOutput

logger = logging.getLogger(__name__)

# Claude Code's environment block, Codex's environment_context and Gemini CLI's session context
# each say where the agent works.
_WORKING_DIRECTORY_PATTERNS = (
    re.compile(r"^[ \t]*Working directory:[ \t]*(\S[^\r\n]*?)[ \t]*$", re.MULTILINE),
    re.compile(r"<cwd>\s*([^<\r\n]+?)\s*</cwd>"),
    re.compile(r"working in the directory:[ \t]*(\S[^\r\n]*?)[ \t]*$", re.MULTILINE),
)


class WireFormat(ABC):
    """One provider API's request and response shapes: what the pipeline, the request body's
    processing and a flow's state are given, and all they call.

    Subclasses set ``name`` and implement ``tool_results`` and ``stream_parser`` (and
    ``messages``, for agents that answer commands in plain messages); the rest has sensible
    defaults.
    """

    name: str = ""

    def extract(self, doc: Any, framings: Sequence[Framing] | None = None) -> list[ToolOutput]:
        """The tool outputs in a parsed request body, in conversation order: its tool results
        and the user messages that answer a command, each unwrapped from the agent's framing
        (``framings``: the rules' framings, else the built-in ones)."""
        return framed_outputs(self.tool_results(doc), lambda: self.messages(doc),
                              BUILTIN_FRAMINGS if framings is None else framings, self.name)

    @abstractmethod
    def tool_results(self, doc: Any) -> list[ToolOutput]:
        """The tool results of a body as they are, in conversation order."""

    def messages(self, doc: Any) -> list[Message]:
        """Every turn's own texts (not its tool results), for outputs framed in plain messages."""
        return []

    def rewrite(self, raw: str, new_texts: Mapping[JsonPath, str]) -> str:
        """Write new texts at the given paths of the raw body; every other byte stays."""
        return splice(raw, new_texts)

    def model(self, doc: Any) -> str:
        model = doc.get("model") if isinstance(doc, dict) else None
        return model if isinstance(model, str) else ""

    def is_streaming(self, doc: Any, path: str) -> bool:
        return isinstance(doc, dict) and doc.get("stream") is True

    def session_hint(self, doc: Any) -> str | None:
        return None

    def tool_names(self, doc: Any) -> frozenset[str]:
        """The names of the tools the request declares (what the model may call)."""
        return frozenset(tool_names([as_dict(doc).get("tools")]))

    def working_directory(self, doc: Any) -> str | None:
        return None

    def attestation(self, doc: Any) -> str | None:
        """The client's own integrity check over this body, when it carries one (as text, e.g.
        Claude Code's billing line); a rewritten body no longer matches it."""
        return None

    def usage_from_response(self, doc: Any) -> Usage:
        return self.summary_from_response(doc).usage

    def summary_from_response(self, doc: Any) -> ResponseSummary:
        """Summary of a complete (non-streamed) JSON response; never raises."""
        summary = ResponseSummary()
        if not isinstance(doc, dict):
            return summary
        try:
            self._summarise(doc, summary)
        except Exception:  # a surprising response is logged as far as it was understood
            logger.warning("%s: could not read the whole response", self.name, exc_info=True)
        return summary

    def _summarise(self, doc: dict[str, Any], summary: ResponseSummary) -> None:
        raise NotImplementedError

    @abstractmethod
    def stream_parser(self) -> "StreamParser":
        """A parser for one streamed response of this format."""


class StreamParser:
    """Fed a response's raw SSE bytes chunk by chunk; accumulates ``summary``. Never raises."""

    def __init__(self) -> None:
        self.summary = ResponseSummary()
        self._sse = SseDecoder()
        self._failed = False

    def feed(self, chunk: bytes) -> None:
        if self._failed or not chunk:
            return
        try:
            self._on_events(self._sse.feed(bytes(chunk)))
        except Exception:  # a parsing bug must never reach the proxied stream
            self._fail()

    def close(self) -> ResponseSummary:
        """Call at the end of the stream (mitmproxy's final ``b""``); returns the summary."""
        if not self._failed:
            try:
                self._on_events(self._sse.close())
                self._finish()
            except Exception:
                self._fail()
        return self.summary

    def feed_event(self, text: str) -> None:
        """Consume one event given as JSON text (a WebSocket frame, an SSE ``data`` field)."""
        if self._failed:
            return
        try:
            self._on_data("", text)
        except Exception:
            self._fail()

    def _on_events(self, events: Iterable[SseEvent]) -> None:
        for event in events:
            self._on_data(event.event, event.data)

    def _on_data(self, event: str, data: str) -> None:
        if data.strip() == "[DONE]":
            return
        try:
            obj = json.loads(data)
        except ValueError:
            return
        if isinstance(obj, dict):
            self.summary.events += 1
            self.on_object(event, obj)

    def on_object(self, event: str, obj: dict[str, Any]) -> None:
        """Handle one decoded event; subclasses override. May raise: the caller contains it."""

    def _finish(self) -> None:
        """Hook for assembling what only the end of the stream completes."""

    def _fail(self) -> None:
        self._failed = True
        logger.warning("%s: stopped reading a response stream it could not parse",
                       type(self).__module__, exc_info=True)


def as_int(value: Any) -> int:
    """A token count from JSON, or 0 for anything that is not a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return max(0, int(value))


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_arguments(text: Any) -> Any:
    """Arguments sent as a JSON string, parsed; the string itself if it is not JSON."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def arguments_text(value: Any) -> str:
    """Arguments as text for a ToolCall: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def find_working_directory(texts: Iterable[str]) -> str | None:
    """The last working directory any of the texts declares."""
    found: str | None = None
    for text in texts:
        for pattern in _WORKING_DIRECTORY_PATTERNS:
            for match in pattern.finditer(text):
                found = match.group(1)
    return found


def text_parts(base: JsonPath, content: Any, *types: str) -> tuple[tuple[JsonPath, str], ...]:
    """(path, text) of a content that is a string, or of its ``{"type": t, "text": ...}`` blocks."""
    if isinstance(content, str):
        return ((base, content),)
    return tuple(
        (base + (index, "text"), block["text"])
        for index, block in enumerate(as_list(content))
        if as_dict(block).get("type") in types and isinstance(block.get("text"), str)
    )


def text_blocks(content: Any, *types: str) -> Iterator[str]:
    """Texts of a content that is a string or a list of ``{"type": t, "text": ...}`` blocks."""
    if isinstance(content, str):
        yield content
        return
    for block in as_list(content):
        block = as_dict(block)
        if block.get("type") in types and isinstance(block.get("text"), str):
            yield block["text"]


def upsert_tool_call(summary: ResponseSummary, key: Any, calls: dict[Any, ToolCall]) -> ToolCall:
    """The tool call under construction for a stream key, created in arrival order."""
    call = calls.get(key)
    if call is None:
        call = ToolCall()
        calls[key] = call
        summary.tool_calls.append(call)
    return call
