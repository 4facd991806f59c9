"""A real HTTPS stand-in for the LLM providers, for end-to-end tests.

It speaks real TLS with a throwaway CA whose leaf certificate names the provider hosts, records
every request byte for byte, and answers the way Anthropic, OpenAI (Chat, Responses, the Codex
WebSocket) and Gemini answer, including their streaming formats. A streamed answer can be held
after its first event until the test says its client has received that event: a proxy that
buffers the stream then never delivers the first event, and the client's read timeout fails the
test without any timing assertion. With a :class:`~.scripted_model.ModelScript` (``use_script``)
the conversation endpoints answer with the script's tool calls instead of canned text, so a real
agent runs them.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.server
import json
import logging
import re
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import brotli
import zstandard

from . import provider_answers as answers
from .pki import OTHER_HOST, PROVIDER_HOSTS, RULES_ADDED_HOST, FakePKI, make_test_pki
from .scripted_model import ModelScript
from .provider_answers import (
    ANTHROPIC_USAGE,
    GEMINI_USAGE,
    OPENAI_CHAT_USAGE,
    OPENAI_RESPONSES_USAGE,
    Events,
)

__all__ = [
    "FakeProvider", "Verdict", "RecordedRequest", "RecordedWebSocketMessage", "StreamGate", "FakePKI",
    "make_test_pki", "decode_content", "PROVIDER_HOSTS", "OTHER_HOST", "OTHER_HOST_BODY", "RULES_ADDED_HOST",
    "ANTHROPIC_USAGE", "OPENAI_CHAT_USAGE", "OPENAI_RESPONSES_USAGE", "GEMINI_USAGE",
]

OTHER_HOST_BODY = b"hello from a host the proxy must not touch\n"

logger = logging.getLogger(__name__)

STREAM_GATE_TIMEOUT_S = 30.0
"""How long a held stream waits for its release; longer than any client read timeout in tests."""

_WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_WEBSOCKET_ROUTES = ("/backend-api/codex/responses", "/v1/responses")
"""Codex with a ChatGPT login, and Codex with an API key."""


# --------------------------------------------------------------------------------------------
# What the fake saw


@dataclass(frozen=True)
class RecordedRequest:
    """One request exactly as it reached the fake (``body`` still content-encoded)."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def host(self) -> str:
        return (self.header("host") or "").split(":")[0]

    @property
    def route(self) -> str:
        """The path without its query string."""
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def decoded_body(self) -> bytes:
        """The body with its Content-Encoding undone (gzip, zstd, br)."""
        return decode_content(self.body, self.header("content-encoding"))

    def json(self) -> Any:
        return json.loads(self.decoded_body())


@dataclass(frozen=True)
class RecordedWebSocketMessage:
    """One text message a WebSocket client sent to the fake."""

    path: str
    host: str
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def decode_content(body: bytes, content_encoding: str | None) -> bytes:
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "zstd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    if encoding == "br":
        return brotli.decompress(body)
    raise ValueError(f"the fake provider cannot decode Content-Encoding {encoding!r}")


@dataclass
class StreamGate:
    """Holds one streamed answer after its first event until :meth:`release` is called."""

    event: threading.Event = field(default_factory=threading.Event)
    first_event_sent: threading.Event = field(default_factory=threading.Event)
    timed_out: bool = False
    cut_after: int | None = None
    """Drop the connection after this many events, as an upstream that fails mid-answer."""
    cut_done: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.event.set()


# --------------------------------------------------------------------------------------------
# The server


@dataclass
class Verdict:
    """How the fake bills or refuses one request (see ``FakeProvider.judge``)."""

    headers: dict[str, str] = field(default_factory=dict)
    """Extra response headers, e.g. Anthropic's ``anthropic-ratelimit-unified-*``."""
    refuse_status: int | None = None
    refuse_body: dict[str, Any] | None = None
    socket_events: list[dict[str, Any]] = field(default_factory=list)
    """Over Codex's WebSocket: events sent before the answer (``codex.rate_limits``)."""


class FakeProvider:
    """An HTTPS server on 127.0.0.1 that answers like the providers and records what it got."""

    def __init__(self, pki: FakePKI) -> None:
        self.pki = pki
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._ws_messages: list[RecordedWebSocketMessage] = []
        self._pending_gates: list[StreamGate] = []
        self._all_gates: list[StreamGate] = []
        self._changed = threading.Condition(self._lock)
        self._server: _TLSServer | None = None
        self._thread: threading.Thread | None = None
        self._script: ModelScript | None = None
        self.judge: Callable[[RecordedRequest], Verdict | None] | None = None
        """Set by a test: decides, per conversation request, the billing headers or a refusal."""

    # lifecycle

    def start(self) -> "FakeProvider":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.pki.leaf_cert_path, self.pki.leaf_key_path)
        context.set_alpn_protocols(["http/1.1"])
        self._server = _TLSServer(("127.0.0.1", 0), _Handler, context, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
            name="fake-provider", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            for gate in self._all_gates:
                gate.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake provider first"
        return self._server.server_address[1]

    # what tests use

    def reset(self) -> None:
        """Forget what was recorded and the script, and release any held stream."""
        with self._lock:
            self._script = None
            self._requests.clear()
            self._ws_messages.clear()
            for gate in self._all_gates:
                gate.release()
            self._pending_gates.clear()
            self.judge = None

    def use_script(self, script: ModelScript) -> ModelScript:
        """Answer conversation requests from ``script`` until :meth:`reset`."""
        with self._lock:
            self._script = script
        return script

    @property
    def script(self) -> ModelScript | None:
        with self._lock:
            return self._script

    def cut_next_stream(self, after_events: int) -> StreamGate:
        """Make the next streamed answer end after ``after_events`` events with the connection
        dropped: no further event, no end of the chunked body."""
        gate = StreamGate(cut_after=after_events)
        gate.release()
        with self._lock:
            self._pending_gates.append(gate)
            self._all_gates.append(gate)
        return gate

    def hold_next_stream(self) -> StreamGate:
        """Make the next streamed answer stop after its first event until the gate is released."""
        gate = StreamGate()
        with self._lock:
            self._pending_gates.append(gate)
            self._all_gates.append(gate)
        return gate

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def ws_messages(self) -> list[RecordedWebSocketMessage]:
        with self._lock:
            return list(self._ws_messages)

    def requests_to(self, route: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.route == route]

    def only_request(self, route: str | None = None) -> RecordedRequest:
        """The single request received (to ``route``), with a readable failure otherwise."""
        seen = self.requests
        matching = [r for r in seen if route is None or r.route == route]
        assert len(matching) == 1, (
            f"expected exactly one request{' to ' + route if route else ''}, the fake saw: "
            + repr([(r.method, r.host, r.path) for r in seen])
        )
        return matching[0]

    def wait_for_ws_messages(self, count: int, timeout: float = 10.0) -> list[RecordedWebSocketMessage]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._ws_messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return list(self._ws_messages)

    # called by the handler

    def _record(self, request: RecordedRequest) -> None:
        with self._changed:
            self._requests.append(request)
            self._changed.notify_all()

    def _record_ws(self, message: RecordedWebSocketMessage) -> None:
        with self._changed:
            self._ws_messages.append(message)
            self._changed.notify_all()

    def _take_gate(self) -> StreamGate | None:
        with self._lock:
            return self._pending_gates.pop(0) if self._pending_gates else None


class _TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[http.server.BaseHTTPRequestHandler],
        context: ssl.SSLContext,
        fake: FakeProvider,
    ) -> None:
        self.ssl_context = context
        self.fake = fake
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        raw, address = self.socket.accept()
        # The handshake happens in the connection's own thread (finish_request), so a client
        # that never sends a ClientHello cannot block the accept loop.
        return self.ssl_context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(60)
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError) as error:
            logger.debug("TLS handshake with %s failed: %s", client_address, error)
            return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("fake provider connection from %s ended with an error", client_address, exc_info=True)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # without it every small write waits ~40 ms for an ACK
    server: _TLSServer

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fake provider: " + format, *args)

    # ---- entry points

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        body = self._read_body()
        request = RecordedRequest(
            method=self.command, path=self.path, headers=tuple(self.headers.items()), body=body
        )
        fake = self.server.fake
        route = request.route
        script = fake.script
        if route in _WEBSOCKET_ROUTES and self.headers.get("upgrade", "").lower() == "websocket":
            fake._record(request)
            self._serve_websocket(request)
            return
        fake._record(request)

        if request.host == OTHER_HOST:
            self._send_bytes(200, "text/plain", OTHER_HOST_BODY)
        elif route == "/v1/models" and self.command == "GET":
            self._send_json(200, answers.model_list(request.host))
        elif route == "/backend-api/wham/accounts/check":
            self._send_json(200, answers.chatgpt_accounts(request.header("chatgpt-account-id") or "acct-e2e"))
        elif route == "/v1/messages/count_tokens":
            self._answer_json_or_400(request, lambda payload: {"input_tokens": 42})
        elif (verdict := fake.judge(request) if fake.judge else None) and verdict.refuse_status:
            self._send_json(verdict.refuse_status, verdict.refuse_body or {}, verdict.headers)
        elif route == "/v1/messages":
            answer = script if script is not None else answers
            self._answer(request, answer.anthropic_message, answer.anthropic_events, sse_done=False,
                         headers=verdict.headers if verdict else {})
        elif route in ("/v1/chat/completions", "/api/v1/chat/completions"):
            self._answer(request, answers.chat_completion, answers.chat_chunks, sse_done=True)
        elif route in ("/v1/responses", "/backend-api/codex/responses", "/api/v1/responses"):
            if script is not None:
                self._answer(request, script.responses_object, script.responses_events, sse_done=False)
            else:
                self._answer(request, answers.responses_object, answers.responses_events, sse_done=False)
        elif (match := re.fullmatch(r"/v1(?:beta)?/models/([^/:]+):(generateContent|streamGenerateContent)", route)):
            model, method = match.groups()
            payload = self._parse_json(request)
            if payload is None:
                self._send_json(400, {"error": {"code": 400, "message": "Invalid JSON payload received."}})
            elif method == "generateContent":
                self._send_json(200, answers.gemini_response(model, final=True))
            else:
                self._stream_sse(answers.gemini_events(model), sse_done=False)
        else:
            self._send_json(404, {"error": {"message": f"the fake provider has no route {route}"}})

    # ---- request side

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    @staticmethod
    def _parse_json(request: RecordedRequest) -> Any:
        try:
            payload = request.json()
        except (ValueError, RecursionError, zstandard.ZstdError, brotli.error, OSError):
            return None
        return payload if isinstance(payload, dict) else None

    # ---- answers

    def _answer(
        self,
        request: RecordedRequest,
        json_answer: Callable[[dict[str, Any]], dict[str, Any]],
        stream_answer: Callable[[dict[str, Any]], Events],
        sse_done: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        payload = self._parse_json(request)
        if payload is None:
            self._send_json(400, answers.invalid_json_error(request.host))
        elif payload.get("stream"):
            self._stream_sse(stream_answer(payload), sse_done=sse_done, headers=headers)
        else:
            self._send_json(200, json_answer(payload), headers)

    def _answer_json_or_400(
        self, request: RecordedRequest, json_answer: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> None:
        payload = self._parse_json(request)
        if payload is None:
            self._send_json(400, answers.invalid_json_error(request.host))
        else:
            self._send_json(200, json_answer(payload))

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send_bytes(status, "application/json", json.dumps(payload).encode(), headers)

    def _send_bytes(self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream_sse(self, events: Events, sse_done: bool, headers: dict[str, str] | None = None) -> None:
        """Send server-sent events in HTTP chunks, one event per chunk, as the providers do."""
        gate = self.server.fake._take_gate()
        self.send_response(200)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for index, (name, data) in enumerate(events):
            text = (f"event: {name}\n" if name else "") + f"data: {json.dumps(data)}\n\n"
            self._write_chunk(text.encode())
            if gate is not None and gate.cut_after == index + 1:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                gate.cut_done.set()
                return
            if index == 0 and gate is not None:
                gate.first_event_sent.set()
                if not gate.event.wait(STREAM_GATE_TIMEOUT_S):
                    gate.timed_out = True
        if sse_done:
            self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    # ---- WebSocket (Codex's Responses transport)

    def _serve_websocket(self, request: RecordedRequest) -> None:
        key = self.headers.get("sec-websocket-key", "")
        accept = base64.b64encode(hashlib.sha1((key + _WEBSOCKET_GUID).encode()).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        fake = self.server.fake
        while True:
            frame = self._read_ws_frame()
            if frame is None:
                return
            opcode, payload = frame
            if opcode == 0x8:
                self._write_ws_frame(0x8, payload[:2])
                return
            if opcode == 0x9:
                self._write_ws_frame(0xA, payload)
                continue
            if opcode != 0x1:
                continue
            text = payload.decode("utf-8")
            fake._record_ws(RecordedWebSocketMessage(path=request.path, host=request.host, text=text))
            try:
                message = json.loads(text)
            except ValueError:
                self._write_ws_frame(0x1, json.dumps({"type": "error", "error": {"message": "invalid JSON"}}).encode())
                continue
            if isinstance(message, dict) and message.get("type") == "response.create":
                turn = RecordedRequest(method="WS", path=request.path, headers=request.headers, body=payload)
                verdict = fake.judge(turn) if fake.judge else None
                for event in verdict.socket_events if verdict else ():
                    self._write_ws_frame(0x1, json.dumps(event).encode())
                if verdict and verdict.refuse_status:
                    refusal = {"type": "error", "status": verdict.refuse_status, **(verdict.refuse_body or {})}
                    self._write_ws_frame(0x1, json.dumps(refusal).encode())
                    continue
                script = fake.script
                events = script.responses_events(message) if script is not None else answers.responses_events(message)
                for name, data in events:
                    self._write_ws_frame(0x1, json.dumps({"type": name, **data}).encode())

    def _read_ws_frame(self) -> tuple[int, bytes] | None:
        """Read one whole message (fragments joined); None when the peer went away."""
        message = b""
        first_opcode = None
        while True:
            header = self.rfile.read(2)
            if len(header) < 2:
                return None
            fin, opcode = header[0] & 0x80, header[0] & 0x0F
            masked, length = header[1] & 0x80, header[1] & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self.rfile.read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self.rfile.read(8))
            mask = self.rfile.read(4) if masked else b""
            data = self.rfile.read(length)
            if mask:
                data = bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))
            if opcode >= 0x8:  # control frames may interleave with fragments
                return opcode, data
            first_opcode = opcode if first_opcode is None else first_opcode
            message += data
            if fin:
                return first_opcode, message

    def _write_ws_frame(self, opcode: int, payload: bytes) -> None:
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
        self.wfile.write(header + payload)
        self.wfile.flush()
