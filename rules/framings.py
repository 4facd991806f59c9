"""The ``framings`` section: more shapes in which agents put a command's output (rules/README.md).

Each entry becomes a ``rules.framing_shape.Framing``, tried before the built-in ones. Regular
expressions are compiled here, with ``.`` matching line breaks, so a broken one is reported with
its file and line instead of failing on the first request it meets.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import yaml

from headroom_mitm.rules.framing_shape import Framing

if TYPE_CHECKING:
    from headroom_mitm.rules.schema import _Checker

FRAMING_KEYS = ("name", "output", "json", "command", "tool", "is_error")
JSON_KEYS = ("output", "exit_code")
_SHAPE_GROUPS = ("output", "exit_code", "command")


def check_framings(checker: "_Checker", node: yaml.Node) -> list[Framing]:
    if not isinstance(node, yaml.SequenceNode):
        checker.fail(node, "framings must be a list of framings")
        return []
    found = []
    for index, item in enumerate(node.value):
        framing = _framing(checker, item, index)
        if framing is not None:
            found.append(framing)
    return found


def _framing(checker: "_Checker", node: yaml.Node, index: int) -> Framing | None:
    errors_before = len(checker.errors)
    where = f"framing {index + 1}"
    fields: dict[str, Any] = {}
    for key, _, value in checker.mapping(node, where, FRAMING_KEYS):
        at = f"{where}: {key}"
        if key in ("name", "tool"):
            fields[key] = checker.typed(value, at, str)
        elif key == "is_error":
            fields[key] = checker.typed(value, at, bool)
        elif key == "output":
            fields["shape"] = _pattern(checker, value, at, allowed=_SHAPE_GROUPS)
        elif key == "command":
            fields["command"] = _pattern(checker, value, at, allowed=("command",), required="command")
        else:
            fields.update(_json(checker, value, at))
    if not isinstance(node, yaml.MappingNode) or len(checker.errors) != errors_before:
        return None
    if ("shape" in fields) == ("json_output" in fields):
        checker.fail(node, f"{where}: give exactly one of 'output' (a regular expression) and 'json'")
        return None
    name = fields.pop("name", None) or where
    return Framing(name, origin=f"{checker.path}:{node.start_mark.line + 1}", **fields)


def _pattern(checker: "_Checker", node: yaml.Node, where: str, allowed: tuple[str, ...],
             required: str | None = None) -> re.Pattern[str] | None:
    text = checker.typed(node, where, str)
    if text is None:
        return None
    try:
        pattern = re.compile(text, re.S)
    except re.error as exc:
        checker.fail(node, f"{where}: bad regular expression {text!r}: {exc}")
        return None
    unknown = sorted(set(pattern.groupindex) - set(allowed))
    if unknown:
        checker.fail(node, f"{where}: unknown group '{unknown[0]}' (groups it reads: {', '.join(allowed)})")
        return None
    if required and required not in pattern.groupindex:
        checker.fail(node, f"{where}: the expression needs a (?P<{required}>...) group")
        return None
    return pattern


def _json(checker: "_Checker", node: yaml.Node, where: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    entries = checker.mapping(node, where, JSON_KEYS)
    for key, _, value in entries:
        keys = checker.strings(value, f"{where}.{key}")
        if keys is None:
            continue
        if not keys:
            checker.fail(value, f"{where}.{key} must name at least one key")
            continue
        fields["json_output" if key == "output" else "json_exit_code"] = tuple(keys)
    if isinstance(node, yaml.MappingNode) and not any(key == "output" for key, _, _ in entries):
        checker.fail(node, f"{where} needs output (the keys that hold the command's output)")
    return fields
