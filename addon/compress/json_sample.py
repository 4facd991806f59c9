"""Big JSON arrays sampled: head, tail, error-ish items, outliers, items the call asked about.

The array may be the whole document or sit one level down in an object (``{"items": [...]}``).
The kept items stay in their original order inside the same JSON shape; a marker line before
the JSON says how many were dropped, and the whole original goes to the originals table.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Iterator, Mapping

from ._base import Compressed, Context, smaller_or_unchanged, unchanged
from ._json_shape import parse_document
from .markers import marker, ref_of

_ERRORISH = re.compile(r"\b(?:error|errors|fail|failed|failure|fatal|exception|panic|denied|timeout|critical|invalid)\b", re.I)
_MIN_ARGUMENT_LENGTH = 3
ANOMALY_SIGMAS = 2.0


def _array_key(value: Any, max_items: int) -> str | None:
    if isinstance(value, list):
        return "" if len(value) > max_items else None
    if isinstance(value, dict):
        sized = [(len(item), key) for key, item in value.items() if isinstance(item, list) and len(item) > max_items]
        return max(sized)[1] if sized else None
    return None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _is_errorish(item: Any) -> bool:
    if isinstance(item, dict):
        for key, field in item.items():
            if _ERRORISH.search(str(key)) and field not in (None, False, "", 0, [], {}):
                return True
    return any(_ERRORISH.search(text) for text in _strings(item))


def _anomalies(items: list[Any]) -> set[int]:
    """Indices of records with a numeric field more than ANOMALY_SIGMAS from that field's mean."""
    columns: dict[str, list[tuple[int, float]]] = {}
    for index, item in enumerate(items):
        if isinstance(item, dict):
            for key, field in item.items():
                if isinstance(field, (int, float)) and not isinstance(field, bool) and math.isfinite(field):
                    columns.setdefault(key, []).append((index, float(field)))
    found: set[int] = set()
    for values in columns.values():
        if len(values) < 8:
            continue
        numbers = [number for _, number in values]
        mean = sum(numbers) / len(numbers)
        spread = math.sqrt(sum((number - mean) ** 2 for number in numbers) / len(numbers))
        if spread > 0:
            found.update(index for index, number in values if abs(number - mean) > ANOMALY_SIGMAS * spread)
    return found


def _choose(items: list[Any], params: Mapping[str, Any], ctx: Context) -> list[int]:
    max_items = int(params.get("max_items", 20))
    head, tail = int(params.get("head", 5)), int(params.get("tail", 3))
    chosen = set(range(min(head, len(items)))) | set(range(max(0, len(items) - tail), len(items)))
    wanted = sorted({text for text in _strings(ctx.arguments) if len(text) >= _MIN_ARGUMENT_LENGTH})
    rendered = [json.dumps(item, ensure_ascii=False) for item in items]
    priorities = (
        [index for index, text in enumerate(rendered) if any(word in text for word in wanted)],
        [index for index, item in enumerate(items) if _is_errorish(item)],
        sorted(_anomalies(items)),
    )
    budget = max(max_items, len(chosen))
    for group in priorities:
        for index in group:
            if len(chosen) >= budget:
                break
            chosen.add(index)
    return sorted(chosen)


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    document = parse_document(text)
    if document is None:
        return unchanged(text)
    head_tag, value, tail_tag = document
    key = _array_key(value, int(params.get("max_items", 20)))
    if key is None:
        return unchanged(text)
    items = value if key == "" else value[key]
    kept_indices = _choose(items, params, ctx)
    kept = [items[index] for index in kept_indices]
    sampled = kept if key == "" else {name: (kept if name == key else item) for name, item in value.items()}
    where = "" if key == "" else f" at {json.dumps(key, ensure_ascii=False)}"
    note = marker("json_sample", f"kept {len(kept)} of {len(items)} items{where}, {len(items) - len(kept)} dropped",
                  ref_of(text))
    candidate = head_tag + note + "\n" + json.dumps(sampled, ensure_ascii=False, separators=(",", ":")) + tail_tag
    return smaller_or_unchanged(text, candidate, (text,))
