"""JSON arrays of records re-rendered as a header and rows, restoring to the same JSON value.

    [headroom: json_table 3 rows]          a top-level array; with ``at "items"`` when the array
    id,name,tags                           sits one level down in an object, whose other members
    1,alpha,["x"]                          follow the marker as one compact JSON line
    2,"b,c",[]
    3,,null                                an empty cell is a missing key; "" is an empty string

A cell is written bare when that reads back as the same string (no comma, quote, bracket or
surrounding space, and not a number or ``true``/``false``/``null``), else as compact JSON.
Every rendering is restored and compared with the parsed input before it is used.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from ._base import Compressed, Context, unchanged
from ._json_shape import parse_document, records_key
from ._wrapper import unwrap
from .markers import marker, parse_marker

_DETAIL = re.compile(r'([0-9]+) rows(?: at (".*") index ([0-9]+))?')
_NEEDS_QUOTES = re.compile(r'[,"\[\]{}\n\r\t\x00-\x1f\x7f\u2028\u2029]|^\s|\s$|^$')
_DECODER = json.JSONDecoder()


def _looks_like_literal(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return not isinstance(value, str)


def encode_cell(value: Any) -> str:
    if isinstance(value, str) and not _NEEDS_QUOTES.search(value) and not _looks_like_literal(value):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _decode_cells(line: str, count: int) -> list[Any]:
    """The ``count`` cells of one row; a missing key is returned as the sentinel ``_MISSING``."""
    cells: list[Any] = []
    position = 0
    while True:
        if position < len(line) and line[position] in '"[{':
            value, position = _DECODER.raw_decode(line, position)
        else:
            end = line.find(",", position)
            end = len(line) if end < 0 else end
            raw = line[position:end]
            position = end
            value = _MISSING if raw == "" else (json.loads(raw) if _looks_like_literal(raw) else raw)
        cells.append(value)
        if position >= len(line):
            break
        if line[position] != ",":
            raise ValueError(f"expected a comma at column {position}")
        position += 1
        if position == len(line):
            cells.append(_MISSING)
            break
    if len(cells) != count:
        raise ValueError(f"row has {len(cells)} cells, header has {count}")
    return cells


_MISSING = object()


def _render_rows(records: list[dict[str, Any]]) -> list[str]:
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    names = list(columns)
    rows = [",".join(encode_cell(name) for name in names)]
    for record in records:
        rows.append(",".join(encode_cell(record[name]) if name in record else "" for name in names))
    return rows


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    document = parse_document(text)
    if document is None:
        return unchanged(text)
    head, value, tail = document
    key = records_key(value, max(1, int(params.get("min_rows", 3))))
    if key is None:
        return unchanged(text)
    records = value if key == "" else value[key]
    rows = _render_rows(records)
    if key == "":
        lines = [marker("json_table", f"{len(records)} rows")]
    else:
        quoted = json.dumps(key, ensure_ascii=False)
        rest = {name: item for name, item in value.items() if name != key}
        index = list(value).index(key)
        lines = [marker("json_table", f"{len(records)} rows at {quoted} index {index}"),
                 json.dumps(rest, ensure_ascii=False, separators=(",", ":"))]
        if parse_marker(lines[0]) is None or parse_marker(lines[0]).detail != f"{len(records)} rows at {quoted} index {index}":
            return unchanged(text)
    candidate = head + "\n".join(lines + rows) + tail
    if len(candidate) >= len(text):
        return unchanged(text)
    try:
        restored = restore_value(candidate)
    except (ValueError, IndexError, RecursionError):
        return unchanged(text)
    return Compressed(candidate) if restored == value and _same_types(restored, value) else unchanged(text)


def _same_types(left: Any, right: Any) -> bool:
    """1 == 1.0 == True in Python; the JSON values must match in kind too."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return all(_same_types(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return all(_same_types(a, b) for a, b in zip(left, right))
    return True


def restore_value(text: str) -> Any:
    """The JSON value a json_table rendering stands for."""
    _, body, _ = unwrap(text)
    lines = body.split("\n")
    found = parse_marker(lines[0])
    detail = _DETAIL.fullmatch(found.detail) if found and found.kind == "json_table" else None
    if detail is None:
        raise ValueError("not a json_table rendering")
    count = int(detail[1])
    rest: dict[str, Any] | None = None
    if detail[2]:
        rest = json.loads(lines[1])
        lines = lines[1:]
    header = _decode_header(lines[1])
    records = []
    for line in lines[2 : 2 + count]:
        cells = _decode_cells(line, len(header))
        records.append({name: cell for name, cell in zip(header, cells) if cell is not _MISSING})
    if len(records) != count:
        raise ValueError(f"expected {count} rows, found {len(records)}")
    if rest is None:
        return records
    items = list(rest.items())
    items.insert(int(detail[3]), (json.loads(detail[2]), records))
    return dict(items)


def _decode_header(line: str) -> list[str]:
    cells: list[str] = []
    position = 0
    while position <= len(line):
        if position < len(line) and line[position] == '"':
            name, position = _DECODER.raw_decode(line, position)
        else:
            end = line.find(",", position)
            end = len(line) if end < 0 else end
            name, position = line[position:end], end
        cells.append(name)
        if position >= len(line):
            break
        position += 1
    return cells


def restore(text: str) -> str:
    """The JSON text of the restored value (compact); the value, not the spacing, is what round-trips.

    A text that is not a json_table rendering (the compressor left it unchanged) comes back as is.
    """
    head, body, tail = unwrap(text)
    found = parse_marker(body.split("\n", 1)[0])
    if found is None or found.kind != "json_table":
        return text
    return head + json.dumps(restore_value(text), ensure_ascii=False, separators=(",", ":")) + tail
