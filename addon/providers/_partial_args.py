"""Gemini's streamed function-call arguments, put back together.

With ``streamFunctionCallArguments`` (Vertex AI), one function call arrives over several chunks:
the first names it, each carries ``partialArgs`` (``{"jsonPath": "$.command", "stringValue":
"ls -", "willContinue": true}``) and ``willContinue: true`` says another part follows. A string
is the concatenation of its pieces at one path; numbers, booleans and nulls come whole.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["PartialCall"]

_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]|\[['\"]((?:[^'\"\\]|\\.)*)['\"]\]")


class PartialCall:
    """The arguments of one function call, assembled from its parts."""

    def __init__(self) -> None:
        self.args: dict[str, Any] = {}

    def add(self, call: dict[str, Any]) -> None:
        """Take one part's ``args`` (whole values) and ``partialArgs`` (pieces by JSON path)."""
        if isinstance(call.get("args"), dict):
            self.args.update(call["args"])
        for piece in call.get("partialArgs") or ():
            if isinstance(piece, dict):
                self._add_piece(piece)

    def text(self) -> str:
        return json.dumps(self.args, ensure_ascii=False, separators=(",", ":"))

    def _add_piece(self, piece: dict[str, Any]) -> None:
        steps = _steps(piece.get("jsonPath"))
        if not steps:
            return
        if isinstance(piece.get("stringValue"), str):
            current = _get(self.args, steps)
            value = (current if isinstance(current, str) else "") + piece["stringValue"]
        elif "numberValue" in piece:
            value = piece["numberValue"]
        elif "boolValue" in piece:
            value = piece["boolValue"]
        elif "nullValue" in piece:
            value = None
        else:
            return
        _set(self.args, steps, value)


def _steps(path: Any) -> list[str | int] | None:
    """``$.a.b[0]["c d"]`` as ["a", "b", 0, "c d"]; None for a path this reader does not know."""
    if not isinstance(path, str) or not path.startswith("$"):
        return None
    steps: list[str | int] = []
    at = 1
    while at < len(path):
        match = _STEP.match(path, at)
        if match is None:
            return None
        name, index, quoted = match.groups()
        steps.append(int(index) if index is not None else (name if name is not None else quoted))
        at = match.end()
    return steps or None


def _get(root: Any, steps: list[str | int]) -> Any:
    for step in steps:
        if isinstance(step, int) and isinstance(root, list) and step < len(root):
            root = root[step]
        elif isinstance(step, str) and isinstance(root, dict):
            root = root.get(step)
        else:
            return None
    return root


def _set(root: Any, steps: list[str | int], value: Any) -> None:
    for step, following in zip(steps, steps[1:] + [None]):
        blank: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            if not isinstance(root, list):
                return
            while len(root) <= step:
                root.append(None)
            if following is None:
                root[step] = value
                return
            if not isinstance(root[step], (dict, list)):
                root[step] = blank
            root = root[step]
        else:
            if not isinstance(root, dict):
                return
            if following is None:
                root[step] = value
                return
            if not isinstance(root.get(step), (dict, list)):
                root[step] = blank
            root = root[step]
