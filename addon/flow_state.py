"""What the addon keeps about one flow between its hooks, and how it becomes a log entry."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from mitmproxy import http

from headroom_mitm.addon.agents import agent_of
from headroom_mitm.addon.billing import BillingSignal, billing_from_codex_event, refusal_in_event
from headroom_mitm.addon.credentials import NO_CREDENTIAL, Credential, classify
from headroom_mitm.addon.modes import Mode
from headroom_mitm.addon.providers import ResponseSummary, StreamParser, WireFormat
from headroom_mitm.addon.request_body import RequestBody
from headroom_mitm.addon.store.entries import BreakerTrip

logger = logging.getLogger(__name__)


@dataclass
class FlowState:
    """One provider call: a request/response pair, or one ``response.create`` turn of a socket."""

    started_at: datetime
    started: float
    host: str
    path: str
    method: str
    wire: WireFormat | None  # None: a provider host, but no API the addon reads (GET /v1/models)
    mode: Mode
    transport: str = "http"
    secrets: tuple[str, ...] = ()
    request_bytes: int = 0
    body: RequestBody = field(default_factory=RequestBody)
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    parser: StreamParser | None = None
    summary: ResponseSummary | None = None
    notes: list[str] = field(default_factory=list)
    pending_turns: list["FlowState"] = field(default_factory=list)
    retrieval: bool = False
    """A WebSocket turn declared the retrieve tool: the model has it in every later turn."""
    credential: Credential = NO_CREDENTIAL
    agent: str | None = None
    billing: BillingSignal | None = None
    refusal: str | None = None
    limited: str | None = None
    """The budget or rate limit the proxy refused the request for (answered 429 itself)."""
    retried: bool = False
    completed: bool = False
    """A socket turn ended with ``response.completed``."""
    trip: BreakerTrip | None = None
    original_message: bytes | None = None
    """A rewritten socket turn's ``response.create`` as the client sent it."""
    answer_started: bool = False
    """A server event of this socket turn reached the client."""
    original_request: http.Request | None = None
    """The request as the client sent it, kept while a rewritten one is in flight: a refusal
    that arrives before any byte reached the client is retried with it."""

    @property
    def rewritten(self) -> bool:
        return self.body.new_body is not None

    @classmethod
    def begin(cls, flow: http.HTTPFlow, wire: WireFormat | None, mode: Mode) -> "FlowState":
        from headroom_mitm.addon.redact import secrets_from_headers

        request = flow.request
        return cls(
            started_at=datetime.now(timezone.utc),
            started=time.monotonic(),
            host=request.pretty_host,
            path=request.path,
            method=request.method,
            wire=wire,
            mode=mode,
            secrets=tuple(secrets_from_headers(request.headers)) + _url_secrets(request),
            request_bytes=len(request.raw_content or b""),
            credential=classify(request.headers, request.pretty_host, dict(request.query)),
            agent=agent_of(request.headers),
        )

    def note(self, text: str) -> None:
        self.notes.append(text)

    def absorb(self, body: RequestBody) -> None:
        self.body = body
        if body.error:
            self.note(body.error)

    # ---- HTTP responses ----------------------------------------------------------------------

    def start_stream(self) -> StreamParser:
        assert self.wire is not None, "the proxy streams only an API it reads"
        self.parser = self.wire.stream_parser()
        return self.parser

    def finish_http(self, flow: http.HTTPFlow) -> None:
        self.status_code = flow.response.status_code if flow.response else None
        self.latency_ms = (time.monotonic() - self.started) * 1000
        if self.parser is not None:
            self.summary = self.parser.close()
        elif flow.response is not None and self.wire is not None:
            self.summary = _summarise_whole_response(self.wire, flow.response)

    def fail(self, message: str) -> None:
        self.latency_ms = (time.monotonic() - self.started) * 1000
        self.error = message

    # ---- WebSocket turns ---------------------------------------------------------------------

    def ws_client_message(self, content: bytes) -> "FlowState | None":
        """A ``response.create`` opens a turn of its own; other client messages are not turns."""
        try:
            message = json.loads(content)
        except ValueError:
            return None
        if not isinstance(message, dict) or message.get("type") != "response.create":
            return None
        turn = FlowState(
            started_at=datetime.now(timezone.utc),
            started=time.monotonic(),
            host=self.host,
            path=self.path,
            method="WS",
            wire=self.wire,
            mode=self.mode,
            transport="websocket",
            secrets=self.secrets,
            request_bytes=len(content),
            credential=self.credential,
            agent=self.agent,
            billing=self.billing,
        )
        assert self.wire is not None, "the proxy follows only a socket of an API it reads"
        turn.parser = self.wire.stream_parser()
        self.pending_turns.append(turn)
        return turn

    def ws_refused_turn(self, content: bytes) -> "FlowState | None":
        """The open turn, when this server event refuses it as rewritten before any answer of
        it reached the client (so it can be asked again with the client's bytes, once)."""
        turn = self.pending_turns[0] if self.pending_turns else None
        if turn is None or turn.retried or turn.answer_started or turn.original_message is None:
            return None
        refusal = refusal_in_event(_event(content.decode("utf-8", "replace")))
        if refusal is None:
            return None
        turn.refusal, turn.retried = refusal, True
        turn.note("refused as rewritten; sent again with the client's original bytes")
        return turn

    def ws_server_event(self, content: bytes) -> "FlowState | None":
        """Feeds a server event to the oldest open turn; returns the turn once it completed."""
        if not self.pending_turns:
            return None
        turn = self.pending_turns[0]
        text = content.decode("utf-8", "replace")
        turn.parser.feed_event(text)
        event = _event(text)
        kind = event.get("type", "")
        if kind == "codex.rate_limits":
            turn.billing = billing_from_codex_event(event) or turn.billing
        elif kind in ("error", "response.failed"):
            turn.refusal = refusal_in_event(event) or turn.refusal
        else:
            turn.answer_started = True
        if kind not in _TURN_ENDING_EVENTS:
            return None
        self.pending_turns.pop(0)
        turn.completed = kind == "response.completed"
        turn.summary = turn.parser.close()
        turn.status_code = 101
        turn.latency_ms = (time.monotonic() - turn.started) * 1000
        return turn

    def ws_close(self) -> list["FlowState"]:
        closed, self.pending_turns = self.pending_turns, []
        for turn in closed:
            turn.summary = turn.parser.close()
            turn.fail("WebSocket closed before the response completed")
        return closed


def _url_secrets(request: http.Request) -> tuple[str, ...]:
    # Gemini accepts the API key as ?key=...; it must never reach the log, even inside a text.
    return tuple(value for name, value in request.query.items(multi=True) if name.lower() in {"key", "api_key"} and value)


# Server events after which a Responses turn over the socket has nothing more to say.
_TURN_ENDING_EVENTS = frozenset({"response.completed", "response.failed", "response.incomplete", "error"})


def _event(text: str) -> dict[str, Any]:
    try:
        event = json.loads(text)
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def _summarise_whole_response(wire: WireFormat, response: http.Response) -> ResponseSummary | None:
    """A response that was not streamed: read usage from its JSON, if it is JSON. An event
    stream read whole (the answer to a request sent again) goes through the stream parser."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        parser = wire.stream_parser()
        parser.feed(response.get_content(strict=False) or b"")
        return parser.close()
    try:
        return wire.summary_from_response(json.loads(response.get_content(strict=False) or b""))
    except ValueError:
        return None
