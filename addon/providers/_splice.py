"""Byte-exact write-back: replace some string values in a JSON text, leave every other character.

Re-serialising a parsed body would change whitespace, key order, number formats and escapes,
and with them the bytes the provider's prompt cache has already seen. ``splice`` instead walks
the raw text along the wanted paths only, skips everything else at C speed
(``JSONDecoder.raw_decode`` / ``scanstring``) and swaps exactly the string tokens it was asked to.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring
from typing import Any, Mapping, Union

from headroom_mitm.addon.memo import LruMemo
from headroom_mitm.addon.tool_output import JsonPath

__all__ = ["SpliceError", "splice", "string_spans"]

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_LEAF = object()  # trie key marking "the path ends here"
_TOKENS: LruMemo[str] = LruMemo(4096, max_weight=32_000_000, weigh=lambda token: 2 * len(token))
"""New text -> its JSON token. A conversation's compressed outputs are the same objects in
every request (the pipeline memoises them), so each is encoded once and its hash is known."""

Span = tuple[int, int, str]
"""(start, end, new token): raw[start:end] is the old string token, quotes included."""

_Trie = dict[Union[str, int, object], Any]


class SpliceError(ValueError):
    """A replacement path does not name a string value in the JSON text (or the text is not JSON)."""


def splice(raw: str, replacements: Mapping[JsonPath, str]) -> str:
    """Return ``raw`` with the string at each path replaced by its new value.

    Only the replaced string tokens change (re-encoded with ``json.dumps(ensure_ascii=False)``);
    a replacement equal to the current value keeps its original token, escapes and all.
    Duplicate object keys resolve to the last one, as JSON parsers do.
    Raises ``SpliceError`` when a path is missing or does not end at a string.
    """
    if not replacements:
        return raw
    spans = string_spans(raw, replacements)
    pieces: list[str] = []
    cursor = 0
    for start, end, token in spans:
        pieces.append(raw[cursor:start])
        pieces.append(token)
        cursor = end
    pieces.append(raw[cursor:])
    return "".join(pieces)


def string_spans(raw: str, replacements: Mapping[JsonPath, str]) -> list[Span]:
    """The edits ``splice`` would make, sorted by position; unchanged values produce no span."""
    trie = _build_trie(replacements)
    spans: list[Span] = []
    idx = _skip_ws(raw, 0)
    try:
        end = _walk(raw, idx, trie, (), spans)
    except (IndexError, json.JSONDecodeError) as exc:
        raise SpliceError(f"body is not valid JSON: {exc}") from exc
    if _skip_ws(raw, end) != len(raw):
        raise SpliceError(f"unexpected text after the JSON value at offset {end}")
    spans.sort()
    return spans


def _build_trie(replacements: Mapping[JsonPath, str]) -> _Trie:
    trie: _Trie = {}
    for path, value in replacements.items():
        if not isinstance(value, str):
            raise SpliceError(f"replacement for {list(path)} is {type(value).__name__}, not str")
        node = trie
        for key in path:
            if _LEAF in node:
                raise SpliceError(f"path {list(path)} goes inside another replaced string")
            node = node.setdefault(key, {})
        if len(node) > 0 and _LEAF not in node:
            raise SpliceError(f"path {list(path)} names a container holding other replaced paths")
        node[_LEAF] = value
    return trie


def _skip_ws(raw: str, idx: int) -> int:
    return _WHITESPACE.match(raw, idx).end()  # type: ignore[union-attr]


def _skip_value(raw: str, idx: int) -> int:
    if raw[idx] == '"':  # the common case, and scanstring avoids building anything else
        return scanstring(raw, idx + 1)[1]
    return _DECODER.raw_decode(raw, idx)[1]


def _walk(raw: str, idx: int, node: _Trie, path: JsonPath, spans: list[Span]) -> int:
    """Descend into the value at ``idx`` along ``node``; append spans; return the value's end."""
    if _LEAF in node:
        return _replace_string(raw, idx, node[_LEAF], path, spans)
    opener = raw[idx]
    if opener == "{":
        return _walk_object(raw, idx, node, path, spans)
    if opener == "[":
        return _walk_array(raw, idx, node, path, spans)
    wanted = next(iter(node))
    raise SpliceError(f"path {list(path) + [wanted]} goes through a non-container at {list(path)}")


def _replace_string(raw: str, idx: int, new: str, path: JsonPath, spans: list[Span]) -> int:
    if raw[idx] != '"':
        raise SpliceError(f"value at {list(path)} is not a string")
    old, end = scanstring(raw, idx + 1)
    if old != new:
        spans.append((idx, end, _encode(new)))
    return end


def _encode(text: str) -> str:
    token = _TOKENS.get(text)
    if token is None:
        token = _encode_uncached(text)
        _TOKENS.put(text, token)
    return token


def _encode_uncached(text: str) -> str:
    token = json.dumps(text, ensure_ascii=False)
    if not token.isascii():
        try:
            token.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates cannot travel as UTF-8: keep them escaped
            token = json.dumps(text, ensure_ascii=True)
    return token


def _walk_object(raw: str, idx: int, node: _Trie, path: JsonPath, spans: list[Span]) -> int:
    wanted = {key for key in node if isinstance(key, str)}
    if len(wanted) != len(node):
        bad = next(key for key in node if not isinstance(key, str))
        raise SpliceError(f"path {list(path) + [bad]} indexes an object with a number")
    # Spans found under each wanted key; a later duplicate key replaces an earlier one's.
    found: dict[str, list[Span] | SpliceError] = {}
    idx = _skip_ws(raw, idx + 1)
    if raw[idx] == "}":
        return _finish_object(found, wanted, path, spans, idx + 1)
    while True:
        if raw[idx] != '"':
            raise SpliceError(f"expected an object key at offset {idx}")
        key, idx = scanstring(raw, idx + 1)
        idx = _skip_ws(raw, idx)
        if raw[idx] != ":":
            raise SpliceError(f"expected ':' at offset {idx}")
        idx = _skip_ws(raw, idx + 1)
        if key in wanted:
            child_spans: list[Span] = []
            try:
                idx = _walk(raw, idx, node[key], path + (key,), child_spans)
                found[key] = child_spans
            except SpliceError as exc:
                found[key] = exc
                idx = _skip_value(raw, idx)
        else:
            idx = _skip_value(raw, idx)
        idx = _skip_ws(raw, idx)
        if raw[idx] == ",":
            idx = _skip_ws(raw, idx + 1)
        elif raw[idx] == "}":
            return _finish_object(found, wanted, path, spans, idx + 1)
        else:
            raise SpliceError(f"expected ',' or '}}' at offset {idx}")


def _finish_object(
    found: dict[str, list[Span] | SpliceError],
    wanted: set[str],
    path: JsonPath,
    spans: list[Span],
    end: int,
) -> int:
    for key in wanted:
        result = found.get(key)
        if result is None:
            raise SpliceError(f"key {key!r} not found at {list(path)}")
        if isinstance(result, SpliceError):
            raise result
        spans.extend(result)
    return end


def _walk_array(raw: str, idx: int, node: _Trie, path: JsonPath, spans: list[Span]) -> int:
    wanted = {key for key in node if isinstance(key, int) and not isinstance(key, bool)}
    if len(wanted) != len(node):
        bad = next(key for key in node if key not in wanted)
        raise SpliceError(f"path {list(path) + [bad]} indexes an array with a non-integer")
    remaining = len(wanted)
    position = 0
    idx = _skip_ws(raw, idx + 1)
    if raw[idx] == "]":
        return _finish_array(remaining, wanted, position, path, idx + 1)
    while True:
        if position in wanted:
            idx = _walk(raw, idx, node[position], path + (position,), spans)
            remaining -= 1
        else:
            idx = _skip_value(raw, idx)
        position += 1
        idx = _skip_ws(raw, idx)
        if raw[idx] == ",":
            idx = _skip_ws(raw, idx + 1)
        elif raw[idx] == "]":
            return _finish_array(remaining, wanted, position, path, idx + 1)
        else:
            raise SpliceError(f"expected ',' or ']' at offset {idx}")


def _finish_array(remaining: int, wanted: set[int], length: int, path: JsonPath, end: int) -> int:
    if remaining:
        missing = sorted(i for i in wanted if i >= length or i < 0)
        raise SpliceError(f"index {missing[0]} out of range (length {length}) at {list(path)}")
    return end
