"""Token counts for tool outputs, before and after compression.

Counts use tiktoken's ``o200k_base`` encoding (the one current OpenAI models use; Claude's own
tokenizer is not public, and the provider's exact counts arrive later in ``usage``). A request
repeats its whole conversation, so counts are memoised by content hash: the cost of a request is
the cost of its new tool outputs.

When the encoding cannot be loaded (tiktoken downloads it on first use; an offline machine without
a cache cannot), counts fall back to an estimate of one token per 3.7 UTF-8 bytes, rounded up.
On 1,077 real tool outputs (Claude Code and mini-swe-agent traces) o200k_base averaged 3.67 bytes
per token (median 3.79, middle half 3.33-4.30), so the estimate is close on the text this tool
sees, and it errs toward more tokens rather than fewer. One warning says the estimate is in use.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from typing import Any

__all__ = ["count_tokens", "load_in_background", "tokenizer_name", "ENCODING_NAME"]

logger = logging.getLogger(__name__)

ENCODING_NAME = "o200k_base"
ESTIMATE_NAME = "estimate:utf8-bytes/3.7"

# Encoding even a few hundred characters costs tens of microseconds, hashing them one: all but
# the tiniest texts are memoised. A long conversation resends thousands of turns and outputs,
# each counted per request; the entries are small (a 16-byte digest and an int).
_MEMO_MIN_CHARS = 64
_MEMO_MAX_ENTRIES = 65536

_lock = threading.Lock()
_encoding: Any = None
_encoding_failed = False
_memo: OrderedDict[bytes, int] = OrderedDict()


def count_tokens(text: str) -> int:
    """Number of tokens ``text`` holds under o200k_base (or the byte estimate when unavailable)."""
    if not text:
        return 0
    if len(text) < _MEMO_MIN_CHARS:
        return _count_uncached(text)
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    with _lock:
        cached = _memo.get(key)
        if cached is not None:
            _memo.move_to_end(key)
            return cached
    count = _count_uncached(text)
    with _lock:
        _memo[key] = count
        if len(_memo) > _MEMO_MAX_ENTRIES:
            _memo.popitem(last=False)
    return count


def load_in_background() -> threading.Thread:
    """Start loading the encoding on a thread of its own: loading takes a few hundred
    milliseconds, which the first request would otherwise wait for. Counting before it is done
    waits for it (it never falls back to the estimate for that)."""
    thread = threading.Thread(target=_get_encoding, name="headroom-tiktoken-load", daemon=True)
    thread.start()
    return thread


def tokenizer_name() -> str:
    """Which counter is in use: ``"o200k_base"`` or the estimate's name."""
    return ENCODING_NAME if _get_encoding() is not None else ESTIMATE_NAME


def _count_uncached(text: str) -> int:
    encoding = _get_encoding()
    if encoding is None:
        return _estimate(text)
    # encode_ordinary: tool outputs may contain "<|endoftext|>" as plain text
    return len(encoding.encode_ordinary(text))


def _estimate(text: str) -> int:
    n_bytes = len(text.encode("utf-8", "surrogatepass"))
    return (n_bytes * 10 + 36) // 37


def _get_encoding() -> Any:
    global _encoding, _encoding_failed
    if _encoding is not None or _encoding_failed:
        return _encoding
    with _lock:
        if _encoding is None and not _encoding_failed:
            try:
                import tiktoken

                _encoding = tiktoken.get_encoding(ENCODING_NAME)
            except Exception as exc:  # no network and no cache, or tiktoken missing
                _encoding_failed = True
                logger.warning(
                    "token counts are estimated (1 token per 3.7 UTF-8 bytes): tiktoken could not "
                    "load %s (%s). Point TIKTOKEN_CACHE_DIR at a folder holding the encoding "
                    "for exact counts.",
                    ENCODING_NAME,
                    exc,
                )
    return _encoding
