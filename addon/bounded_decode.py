"""Undo a request body's Content-Encoding without letting a small body become a huge one.

A 32 KB zstd body can decode to gigabytes; mitmproxy's own ``get_content`` decodes all of it.
Here the decoders run in bounded steps and stop once the decoded size passes a limit: such a
body is not the addon's to rewrite, and goes upstream exactly as the client sent it.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterator

__all__ = ["MAX_DECODED_BYTES", "BodyTooLarge", "decode_bounded"]

MAX_DECODED_BYTES = 64 * 1024 * 1024
"""Larger than any conversation a client sends (the largest seen are under 30 MB decoded)."""

_STEP = 1024 * 1024
# A brotli meta-block of a few bytes may stand for 16 MiB of output and the decoder has no
# output limit: feeding it a few bytes at a time keeps one step's output to a few meta-blocks.
_BROTLI_INPUT_STEP = 32


class BodyTooLarge(ValueError):
    """The body decodes to more than the limit."""

    def __init__(self, encoding: str, limit: int) -> None:
        super().__init__(f"{encoding} body decodes to more than {limit // (1024 * 1024)} MiB")


def decode_bounded(raw: bytes, content_encoding: str, limit: int = MAX_DECODED_BYTES) -> bytes:
    """``raw`` decoded, or :class:`BodyTooLarge` once the decoded size passes ``limit``;
    ``ValueError`` for an encoding that cannot be decoded (as mitmproxy's ``get_content``)."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity", "none"):
        if len(raw) > limit:
            raise BodyTooLarge("the", limit)
        return raw
    pieces = _PIECES.get(encoding)
    if pieces is None:
        raise ValueError(f"unknown Content-Encoding {content_encoding!r}")
    out: list[bytes] = []
    size = 0
    try:
        for piece in pieces(raw):
            size += len(piece)
            if size > limit:
                raise BodyTooLarge(encoding, limit)
            out.append(piece)
    except BodyTooLarge:
        raise
    except Exception as exc:  # zlib.error, zstd and brotli errors: a body that is not what it says
        raise ValueError(f"invalid {encoding} body: {exc}") from None
    return b"".join(out)


def _zlib_pieces(wbits: int) -> Callable[[bytes], Iterator[bytes]]:
    def pieces(raw: bytes) -> Iterator[bytes]:
        decoder = zlib.decompressobj(wbits)
        data = raw
        while data and not decoder.eof:
            yield decoder.decompress(data, _STEP)
            data = decoder.unconsumed_tail
        if not decoder.eof:
            yield decoder.flush()
            raise ValueError("truncated stream")

    return pieces


def _deflate_pieces(raw: bytes) -> Iterator[bytes]:
    # "deflate" is zlib-wrapped by the standard and raw in practice: mitmproxy accepts both
    try:
        yield from _zlib_pieces(zlib.MAX_WBITS)(raw)
    except zlib.error:
        yield from _zlib_pieces(-zlib.MAX_WBITS)(raw)


def _zstd_pieces(raw: bytes) -> Iterator[bytes]:
    import zstandard

    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw), read_across_frames=True)
    while piece := reader.read(_STEP):
        yield piece


def _brotli_pieces(raw: bytes) -> Iterator[bytes]:
    import brotli

    decoder = brotli.Decompressor()
    for start in range(0, len(raw), _BROTLI_INPUT_STEP):
        yield decoder.process(raw[start:start + _BROTLI_INPUT_STEP])
    if not decoder.is_finished():
        raise ValueError("truncated stream")


_PIECES: dict[str, Callable[[bytes], Iterator[bytes]]] = {
    "gzip": _zlib_pieces(16 + zlib.MAX_WBITS),
    "x-gzip": _zlib_pieces(16 + zlib.MAX_WBITS),
    "deflate": _deflate_pieces,
    "br": _brotli_pieces,
    "zstd": _zstd_pieces,
}
