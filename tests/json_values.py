"""JSON values compared as JSON sees them: Python's ``==`` takes ``1``, ``1.0`` and ``True`` for one
value, and a lossless compressor that turned one into another would pass it."""

from __future__ import annotations

from typing import Any


def same_json(left: Any, right: Any) -> bool:
    """Equal values of the same JSON kinds all the way down (object members in any order)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same_json(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(same_json(a, b) for a, b in zip(left, right))
    return bool(left == right)
