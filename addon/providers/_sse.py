"""Incremental Server-Sent Events decoding that survives any chunking of the bytes.

Chunks may split a line, a CRLF pair or a multi-byte UTF-8 character anywhere; only whole lines
are decoded, so none of those can corrupt an event.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SseEvent", "SseDecoder"]

_MAX_LINE_BYTES = 64 * 1024 * 1024  # a line longer than this is not SSE: drop it, keep going


@dataclass(frozen=True)
class SseEvent:
    event: str
    """The ``event:`` field ("" when absent: the default "message")."""
    data: str


class SseDecoder:
    """Feed bytes, get complete events. Never raises on malformed input; it skips it."""

    def __init__(self) -> None:
        self._pending = b""
        self._event = ""
        self._data: list[str] = []
        self._discarding = False

    def feed(self, chunk: bytes) -> list[SseEvent]:
        events: list[SseEvent] = []
        buffer = self._pending + chunk
        start = 0
        while True:
            newline = buffer.find(b"\n", start)
            if newline < 0:
                break
            line = buffer[start:newline]
            start = newline + 1
            if self._discarding:
                self._discarding = False
                continue
            self._take_line(line.rstrip(b"\r"), events)
        self._pending = buffer[start:]
        if len(self._pending) > _MAX_LINE_BYTES:
            self._pending = b""
            self._discarding = True
        return events

    def close(self) -> list[SseEvent]:
        """Flush an event left without its terminating blank line (a stream cut short)."""
        events: list[SseEvent] = []
        if self._pending and not self._discarding:
            self._take_line(self._pending.rstrip(b"\r"), events)
        self._pending = b""
        self._take_line(b"", events)
        return events

    def _take_line(self, raw_line: bytes, events: list[SseEvent]) -> None:
        line = raw_line.decode("utf-8", errors="replace")
        if not line:
            if self._data:
                events.append(SseEvent(self._event, "\n".join(self._data)))
            self._event = ""
            self._data = []
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
