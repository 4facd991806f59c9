"""Watch a streamed response go by without holding it back.

mitmproxy hands a streaming callable each raw chunk, still content-encoded, and forwards whatever
it returns. The tap returns every chunk unchanged and feeds a decoded copy to the wire format's
stream parser on the side. Nothing here may raise: a tap that breaks must only stop tapping.
"""

from __future__ import annotations

import logging
import zlib
from typing import Callable, Protocol

logger = logging.getLogger(__name__)


class _Decoder(Protocol):
    def __call__(self, chunk: bytes) -> bytes: ...


class _Parser(Protocol):
    def feed(self, chunk: bytes) -> None: ...


def _decoder_for(content_encoding: str) -> _Decoder | None:
    """An incremental decoder for one Content-Encoding, or None when we can't follow it."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return lambda chunk: chunk
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress
    if encoding == "deflate":
        return zlib.decompressobj().decompress
    if encoding == "br":
        import brotli

        return brotli.Decompressor().process
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress
    return None


class StreamTap:
    """The callable set as ``flow.response.stream``: forwards chunks, parses a copy."""

    def __init__(self, parser: _Parser, content_encoding: str = "", on_end: Callable[[], None] | None = None) -> None:
        self._parser = parser
        self._decode = _decoder_for(content_encoding)
        self._on_end = on_end
        self.bytes_seen = 0
        if self._decode is None:
            logger.warning("streamed response with Content-Encoding %r: usage not recorded", content_encoding)

    def __call__(self, chunk: bytes) -> bytes:
        self.bytes_seen += len(chunk)
        if self._decode is not None:
            try:
                if chunk:
                    self._parser.feed(self._decode(chunk))
            except Exception:  # a tap must never break the stream it watches
                logger.warning("stopped reading a streamed response", exc_info=True)
                self._decode = None
        if chunk == b"" and self._on_end is not None:
            on_end, self._on_end = self._on_end, None
            try:
                on_end()
            except Exception:
                logger.warning("stream end handler failed", exc_info=True)
        return chunk
