"""A JSON observation's strings: where they are in its text, and new values escaped its way.

An agent that sends ``{"returncode": 1, "output": "..."}`` as a tool result wrote that JSON
itself, with its own escaping: mini-swe-agent's templates use Jinja's ``tojson`` (``<`` as
``\\u003c``, every non-ASCII character escaped), Rust's serde writes UTF-8 as it is. A new value
is escaped the way the string it replaces was, so the rest of the observation, and the look of
the new value, stay the agent's.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring
from typing import Iterable

__all__ = ["top_level_string_spans", "encode_like"]

_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_UNICODE_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.S)
_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"}


def top_level_string_spans(text: str, keys: Iterable[str]) -> dict[str, tuple[int, int]]:
    """(start, end) of the string token of each wanted top-level key of a JSON object, quotes
    included. A key whose value is not a string is left out; a repeated key counts by its last
    value, as JSON parsers read it. Raises ``ValueError`` when ``text`` is not a JSON object."""
    wanted = set(keys)
    spans: dict[str, tuple[int, int]] = {}
    at = _skip(text, 0)
    if text[at:at + 1] != "{":
        raise ValueError("not a JSON object")
    at = _skip(text, at + 1)
    if text[at:at + 1] == "}":
        return spans
    while True:
        if text[at:at + 1] != '"':
            raise ValueError(f"expected a key at offset {at}")
        key, at = scanstring(text, at + 1)
        at = _skip(text, at)
        if text[at:at + 1] != ":":
            raise ValueError(f"expected ':' at offset {at}")
        at = _skip(text, at + 1)
        start = at
        at = scanstring(text, at + 1)[1] if text[at:at + 1] == '"' else _DECODER.raw_decode(text, at)[1]
        if key in wanted:
            if text[start] == '"':
                spans[key] = (start, at)
            else:
                spans.pop(key, None)
        at = _skip(text, at)
        if text[at:at + 1] == ",":
            at = _skip(text, at + 1)
        elif text[at:at + 1] == "}":
            return spans
        else:
            raise ValueError(f"expected ',' or '}}' at offset {at}")


def encode_like(value: str, original_token: str) -> str:
    """``value`` as a JSON string token escaped the way ``original_token`` was.

    What the original shows decides: ``\\u003c`` for ``<`` (HTML-safe JSON), ``\\u00e9`` for
    non-ASCII (ASCII-only JSON), ``\\/`` for ``/``, upper-case hex digits. What it does not show
    is written plainly. The result always decodes to ``value``.
    """
    escapes = [match[1] for match in _UNICODE_ESCAPE.finditer(original_token) if match[1][0] == "u"]
    codes = [int(escape[1:], 16) for escape in escapes]
    html_safe = any(code in (0x3C, 0x3E, 0x26, 0x27) for code in codes)
    ascii_only = any(code >= 0x80 for code in codes)
    upper_hex = any(any(c in "ABCDEF" for c in escape[1:]) for escape in escapes)
    token = json.dumps(value, ensure_ascii=ascii_only)
    if html_safe:
        token = "".join(_HTML_ESCAPES.get(char, char) for char in token)
    if "\\/" in original_token:
        token = token.replace("/", "\\/")
    if upper_hex:
        token = _UNICODE_ESCAPE.sub(lambda m: "\\u" + m[1][1:].upper() if m[1][0] == "u" else m[0], token)
    if json.loads(token) != value:  # cannot happen with the escapes above; never write a wrong value
        token = json.dumps(value, ensure_ascii=False)
    return token


def _skip(text: str, at: int) -> int:
    return _WHITESPACE.match(text, at).end()  # type: ignore[union-attr]
