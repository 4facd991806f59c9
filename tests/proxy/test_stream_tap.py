import gzip
import zlib

import zstandard

from headroom_mitm.addon.stream_tap import StreamTap


class Recorder:
    def __init__(self):
        self.received = b""

    def feed(self, chunk: bytes) -> None:
        self.received += chunk


class Exploding:
    def feed(self, chunk: bytes) -> None:
        raise RuntimeError("parser bug")


def _chunks(data: bytes, size: int):
    return [data[i : i + size] for i in range(0, len(data), size)]


STREAM = b"event: message_start\ndata: {\"type\": \"message_start\"}\n\n" * 20


def test_chunks_are_forwarded_unchanged_and_parsed_decoded():
    for encoding, encoded in (
        ("", STREAM),
        ("gzip", gzip.compress(STREAM)),
        ("deflate", zlib.compress(STREAM)),
        ("zstd", zstandard.ZstdCompressor().compress(STREAM)),
    ):
        parser = Recorder()
        tap = StreamTap(parser, encoding)
        forwarded = b"".join(tap(chunk) for chunk in _chunks(encoded, 7)) + tap(b"")
        assert forwarded == encoded, encoding
        assert parser.received == STREAM, encoding


def test_a_failing_parser_never_breaks_the_stream():
    tap = StreamTap(Exploding(), "")
    assert [tap(c) for c in (b"a", b"b", b"")] == [b"a", b"b", b""]


def test_an_unknown_encoding_is_forwarded_without_parsing():
    parser = Recorder()
    tap = StreamTap(parser, "compress")
    assert tap(b"\x1f\x9d") == b"\x1f\x9d"
    assert parser.received == b""


def test_corrupt_compressed_data_stops_parsing_but_not_forwarding():
    parser = Recorder()
    tap = StreamTap(parser, "gzip")
    assert tap(b"not gzip at all") == b"not gzip at all"
    assert tap(b"more") == b"more"
