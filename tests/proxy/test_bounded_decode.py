"""Request bodies are decoded in bounded steps: the same bytes as a full decode, or a refusal."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest
import zstandard

from headroom_mitm.addon.bounded_decode import BodyTooLarge, decode_bounded

BODY = b'{"messages": [{"role": "user", "content": "' + b"hello world " * 50_000 + b'"}]}'
ENCODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
    "identity": lambda data: data,
}


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_a_body_under_the_limit_decodes_to_its_bytes(encoding: str) -> None:
    assert decode_bounded(ENCODERS[encoding](BODY), encoding) == BODY


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_a_body_over_the_limit_is_refused_naming_the_limit(encoding: str) -> None:
    with pytest.raises(BodyTooLarge, match="decodes to more than 0 MiB"):
        decode_bounded(ENCODERS[encoding](BODY), encoding, limit=len(BODY) - 1)
    assert decode_bounded(ENCODERS[encoding](BODY), encoding, limit=len(BODY)) == BODY


def test_raw_deflate_is_accepted_as_mitmproxy_does() -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert decode_bounded(compressor.compress(BODY) + compressor.flush(), "deflate") == BODY


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_a_body_that_is_not_what_its_encoding_says_is_a_value_error(encoding: str) -> None:
    with pytest.raises(ValueError, match=f"invalid {encoding} body") as failure:
        decode_bounded(b"plain text, not compressed at all", encoding)
    assert not isinstance(failure.value, BodyTooLarge)


def test_a_truncated_body_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="truncated"):
        decode_bounded(gzip.compress(BODY)[:-100], "gzip")


def test_an_unknown_encoding_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown Content-Encoding 'compress'"):
        decode_bounded(b"x", "compress")
