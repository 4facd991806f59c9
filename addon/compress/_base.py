"""What every compressor is: a pure, deterministic function of (text, parameters, context).

A compressor never sees mitmproxy, the database or a provider's JSON. It gets the tool output's
text, the parameters its rule gave it, and a ``Context`` describing the call and what came
*before* it in the conversation (never after: that is what keeps the prompt cache hitting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from headroom_mitm.rules.registry import CompressorInfo, ParamSpec

from ..tokens import count_tokens

__all__ = ["CompressFn", "Compressed", "CompressorSpec", "Context", "ParamSpec", "RestoreFn"]


@dataclass(frozen=True)
class Context:
    """What a compressor may know besides the text itself."""

    tool_name: str = ""
    arguments: Any = None
    call_id: str = ""
    is_error: bool = False
    earlier_outputs: Mapping[str, str] = field(default_factory=dict)
    """sha256 of an earlier tool output's text in this conversation -> that output's call id."""
    earlier_reads: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """file path -> (call id, text) of the latest earlier read of that file in this conversation."""
    earlier_texts: Mapping[str, str] = field(default_factory=dict)
    """call id -> an earlier tool output's text *as it was sent* (compressed or not), in
    conversation order. Only filled for compressors whose spec says ``uses_earlier_texts``: what
    they produce depends on all of it, so the pipeline keys their memo on all of it."""


@dataclass(frozen=True)
class Compressed:
    """A compressor's answer. ``text`` is never longer than the input (else return the input)."""

    text: str
    originals: tuple[str, ...] = ()
    """Content the compressor dropped, to be kept in the originals table under its hash."""


CompressFn = Callable[[str, Mapping[str, Any], Context], Compressed]


RestoreFn = Callable[[str], str]


@dataclass(frozen=True, kw_only=True)
class CompressorSpec(CompressorInfo):
    """A declared compressor with the function that runs it."""

    fn: CompressFn
    restore: RestoreFn | None = None
    """For a lossless compressor: turns its output back into the exact input."""


def fewest_tokens_restoring(original: str, candidates: list[str], restore: RestoreFn) -> Compressed:
    """The candidate with the fewest tokens, once it has fewer than ``original`` and restores to
    exactly it; else ``original`` untouched. For lossless renderings that may spend characters
    (spaces for line breaks) to save tokens; a ValueError from ``restore`` means the rendering was
    ambiguous, and that candidate is passed over."""
    best, best_tokens = original, count_tokens(original)
    for candidate in candidates:
        if (tokens := count_tokens(candidate)) < best_tokens and _restores(candidate, original, restore):
            best, best_tokens = candidate, tokens
    return Compressed(best)


def _restores(candidate: str, original: str, restore: RestoreFn) -> bool:
    try:
        return restore(candidate) == original
    except ValueError:
        return False


def not_longer(candidate: str, original: str) -> bool:
    """Whether ``candidate`` costs the model no more than ``original``: no more characters, or
    (a rendering that spends characters on spaces to save line breaks) fewer tokens."""
    return len(candidate) <= len(original) or count_tokens(candidate) < count_tokens(original)


def unchanged(text: str) -> Compressed:
    return Compressed(text)


def smaller_or_unchanged(original: str, candidate: str, originals: tuple[str, ...] = ()) -> Compressed:
    """The candidate when it is strictly shorter, else the original untouched (and nothing kept)."""
    if len(candidate) < len(original):
        return Compressed(candidate, originals)
    return Compressed(original)


def lossless_or_unchanged(original: str, candidate: str, restore: RestoreFn) -> Compressed:
    """The candidate only when it is shorter *and* restores to exactly the original.

    Checking the round trip on every call costs one more pass over the text and buys the
    guarantee that a lossless compressor never loses a byte, whatever the input looks like.
    """
    if len(candidate) >= len(original):
        return Compressed(original)
    try:
        restored = restore(candidate)
    except Exception:  # a parse the restorer cannot undo means the rendering was ambiguous
        return Compressed(original)
    return Compressed(candidate) if restored == original else Compressed(original)
