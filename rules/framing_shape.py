"""One framing: the shape in which an agent puts a command's output, and how to find the command.

A framing is recognised by shape only (which agent sent it does not matter):

- ``shape``: a regular expression over the output's text. Its ``output`` group is the command's
  output (the rest is the agent's framing, kept byte for byte); without that group the whole
  text is the output, framing included (compressors that know the framing look inside it). An
  ``exit_code`` group reads the exit code; a ``command`` group the command, when the framing
  names it itself.
- ``json_output``: the text is a JSON object, and these keys hold the output (each a piece of
  its own); ``json_exit_code`` is the key path of the exit code, which must be there.
- ``command``: a regular expression over the assistant's text just before a user message; its
  ``command`` group (its last match) is the command that user message answers.

Inside a tool result a matching framing only tells the output apart from its frame, and the
exit code. A plain user message is a tool output only when a framing's shape matches it *and*
the framing knows its command: named in the text itself, or found by ``command`` in the
assistant's turn just before.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from headroom_mitm.rules._json_text import encode_like, top_level_string_spans

__all__ = ["Framing", "Framed", "Piece", "TextFrame", "JsonFrame"]


@dataclass(frozen=True)
class Piece:
    key: str
    """Which piece of the frame ("" for a text frame's one output, else the JSON key)."""
    text: str


@dataclass(frozen=True)
class TextFrame:
    """The output is ``outer[start:end]``; before and after it is the agent's framing."""

    outer: str
    start: int
    end: int

    def rebuild(self, new_texts: Mapping[str, str]) -> str:
        return self.outer[: self.start] + new_texts.get("", self.outer[self.start:self.end]) + self.outer[self.end:]


@dataclass(frozen=True)
class JsonFrame:
    """The output is the values of some string keys of a JSON object written as text."""

    outer: str
    spans: Mapping[str, tuple[int, int]]
    """key -> (start, end) of its string token in ``outer``."""

    def rebuild(self, new_texts: Mapping[str, str]) -> str:
        pieces: list[str] = []
        cursor = 0
        for key, (start, end) in sorted(self.spans.items(), key=lambda item: item[1]):
            if key not in new_texts:
                continue
            pieces += [self.outer[cursor:start], encode_like(new_texts[key], self.outer[start:end])]
            cursor = end
        return "".join(pieces) + self.outer[cursor:]


@dataclass(frozen=True)
class Framed:
    """A text one framing recognised."""

    framing: "Framing"
    pieces: tuple[Piece, ...]
    """The command's output, in the order the text shows it."""
    frame: TextFrame | JsonFrame | None
    """None when the whole text is the output."""
    exit_code: int | None
    command: str | None
    """The command, when the text names it itself."""

    @property
    def is_error(self) -> bool:
        return self.framing.is_error or self.exit_code not in (None, 0)


@dataclass(frozen=True)
class Framing:
    name: str
    shape: re.Pattern[str] | None = None
    json_output: tuple[str, ...] = ()
    json_exit_code: tuple[str, ...] = ()
    command: re.Pattern[str] | None = None
    tool: str = "bash"
    """The tool name a text-framed output is given (what rules match with ``tool:``)."""
    is_error: bool = False
    """Every output in this framing is a failure (a timeout notice)."""
    origin: str = field(default="built in", compare=False)
    """Where it was declared, for messages: ``rules.yaml:12`` or ``built in``."""

    def match(self, text: str) -> Framed | None:
        """The framing found in ``text``, or None."""
        if self.json_output:
            return self._match_json(text)
        if self.shape is None:
            return None
        found = self.shape.search(text)
        if found is None:
            return None
        groups = found.groupdict()
        exit_code = _as_exit_code(groups.get("exit_code"))
        command = groups.get("command")
        if groups.get("output") is None:
            return Framed(self, (Piece("", text),), None, exit_code, command)
        start, end = found.span("output")
        return Framed(self, (Piece("", text[start:end]),), TextFrame(text, start, end), exit_code, command)

    def command_in(self, assistant_text: str) -> str | None:
        """The command an assistant's text asks to run (its last match), or None."""
        if self.command is None:
            return None
        last = None
        for last in self.command.finditer(assistant_text):
            pass
        return last["command"] if last is not None else None

    def _match_json(self, text: str) -> Framed | None:
        head = text.lstrip()[:1]
        if head != "{" or not any(f'"{key}"' in text for key in self.json_output):
            return None
        try:
            document = json.loads(text)
            spans = top_level_string_spans(text, self.json_output)
        except ValueError:
            return None
        if not isinstance(document, dict) or not spans:
            return None
        exit_code = None
        if self.json_exit_code:
            found, value = _at_path(document, self.json_exit_code)
            if not found:
                return None
            exit_code = value if isinstance(value, int) and not isinstance(value, bool) else None
        pieces = tuple(Piece(key, document[key]) for key in self.json_output if key in spans)
        return Framed(self, pieces, JsonFrame(text, {p.key: spans[p.key] for p in pieces}), exit_code, None)


def _at_path(document: Any, path: tuple[str, ...]) -> tuple[bool, Any]:
    for key in path:
        if not isinstance(document, dict) or key not in document:
            return False, None
        document = document[key]
    return True, document


def _as_exit_code(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
