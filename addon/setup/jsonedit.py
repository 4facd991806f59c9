"""Set keys inside one object of a JSON file, leaving every other byte as the user wrote it.

Re-serialising a person's settings file would reorder, re-indent and re-escape it; this walks the
raw text to the object and inserts or replaces only the members it was asked to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from json.decoder import scanstring
from typing import Any, Mapping

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


class JsonEditError(ValueError):
    """The file is not JSON, or not shaped as expected; ``line`` says where."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class _Member:
    key: str
    key_start: int
    value_start: int
    value_end: int


def set_members(raw: str, container: str, values: Mapping[str, Any]) -> str:
    """``raw`` with ``raw[container][key] = value`` for each item (``container`` created if missing)."""
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise JsonEditError(f"not valid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from exc
    if not isinstance(document, dict):
        raise JsonEditError("the top level is not a JSON object", 1)
    top_start = _skip(raw, 0)
    members, top_close = _members(raw, top_start)
    found = [member for member in members if member.key == container]
    if not found:
        unit = _indent_of(raw, top_start, members)
        if members and not unit:  # a one-line file stays on one line
            value = json.dumps(values, ensure_ascii=False)
        else:
            value = json.dumps(values, indent=unit, ensure_ascii=False).replace("\n", "\n" + unit)
        return _insert_member(raw, top_start, top_close, members, container, value)
    target = found[-1]  # a JSON parser keeps the last of duplicate keys
    if not isinstance(document[container], dict):
        raise JsonEditError(f'"{container}" is not an object', _line_of(raw, target.key_start))
    for key, value in values.items():
        raw = _set_one(raw, target.key, key, value)
    return raw


def remove_members(raw: str, container: str, values: Mapping[str, Any]) -> str:
    """``raw`` without the members of ``container`` that still hold exactly ``values``."""
    for key, value in values.items():
        start = _skip(raw, 0)
        members, _ = _members(raw, start)
        found = [member for member in members if member.key == container]
        if not found or raw[found[-1].value_start] != "{":
            return raw
        inner, close = _members(raw, found[-1].value_start)
        for index, member in enumerate(inner):
            if member.key == key and json.loads(raw[member.value_start:member.value_end]) == value:
                raw = _cut_member(raw, inner, index, found[-1].value_start, close)
                break
    return raw


def _set_one(raw: str, container: str, key: str, value: Any) -> str:
    top_start = _skip(raw, 0)
    members, _ = _members(raw, top_start)
    holder = [member for member in members if member.key == container][-1]
    inner, close = _members(raw, holder.value_start)
    existing = [member for member in inner if member.key == key]
    token = json.dumps(value, ensure_ascii=False)
    if existing:
        last = existing[-1]
        if json.loads(raw[last.value_start:last.value_end]) == value:
            return raw
        return raw[: last.value_start] + token + raw[last.value_end:]
    return _insert_member(raw, holder.value_start, close, inner, key, token)


def _insert_member(raw: str, open_at: int, close_at: int, members: list[_Member], key: str, value: str) -> str:
    entry = f"{json.dumps(key, ensure_ascii=False)}: {value}"
    if members:
        last = members[-1]
        layout = raw[open_at + 1:members[0].key_start]
        separator = layout if "\n" in layout else " "
        return raw[: last.value_end] + "," + separator + entry + raw[last.value_end:]
    outer = _line_indent(raw, open_at)
    return raw[: open_at + 1] + f"\n{outer}  {entry}\n{outer}" + raw[close_at:]


def _cut_member(raw: str, members: list[_Member], index: int, open_at: int, close_at: int) -> str:
    member = members[index]
    if len(members) == 1:
        return raw[: open_at + 1] + raw[close_at:]
    if index == len(members) - 1:  # take the comma before it
        previous_end = members[index - 1].value_end
        return raw[:previous_end] + raw[member.value_end:]
    return raw[: member.key_start] + raw[members[index + 1].key_start:]


def _members(raw: str, open_at: int) -> tuple[list[_Member], int]:
    """The members of the object starting at ``open_at``, and the index of its closing brace."""
    members: list[_Member] = []
    index = _skip(raw, open_at + 1)
    if raw[index] == "}":
        return members, index
    while True:
        key, after_key = scanstring(raw, index + 1)
        colon = _skip(raw, after_key)
        value_start = _skip(raw, colon + 1)
        _, value_end = _DECODER.raw_decode(raw, value_start)
        members.append(_Member(key, index, value_start, value_end))
        index = _skip(raw, value_end)
        if raw[index] == "}":
            return members, index
        index = _skip(raw, index + 1)  # past the comma


def _skip(raw: str, index: int) -> int:
    while index < len(raw) and raw[index] in _WHITESPACE:
        index += 1
    return index


def _indent_of(raw: str, open_at: int, members: list[_Member]) -> str:
    """The indentation unit the file uses for members of the object at ``open_at``."""
    if not members:
        return "  "
    layout = raw[open_at + 1:members[0].key_start]
    return layout.rsplit("\n", 1)[1] if "\n" in layout else ""


def _line_indent(raw: str, index: int) -> str:
    line_start = raw.rfind("\n", 0, index) + 1
    line = raw[line_start:index]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _line_of(raw: str, index: int) -> int:
    return raw.count("\n", 0, index) + 1
