"""Finding the array of records in a JSON document: at the top, or one level down in an object."""

from __future__ import annotations

import json
from typing import Any

from ._wrapper import unwrap


def parse_document(text: str) -> tuple[str, Any, str] | None:
    """(head, value, tail) when the text (inside any command wrapper) is one JSON document."""
    head, body, tail = unwrap(text)
    stripped = body.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        return head, json.loads(stripped), tail
    except (ValueError, RecursionError):
        return None


def records_key(value: Any, min_rows: int) -> str | None:
    """"" for a top-level array of objects, the key of the biggest such array one level down, or None."""
    if isinstance(value, list):
        return "" if _is_records(value, min_rows) else None
    if isinstance(value, dict):
        candidates = [(len(item), key) for key, item in value.items() if isinstance(item, list) and _is_records(item, min_rows)]
        if candidates:
            return max(candidates)[1]
    return None


def _is_records(items: list[Any], min_rows: int) -> bool:
    return len(items) >= min_rows and all(isinstance(item, dict) for item in items)
