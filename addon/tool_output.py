"""The one neutral shape that crosses the rooms: a tool output inside a request body.

Wire formats (``addon/providers``) turn a body into these and write changed texts back;
rules and compressors only ever see this shape, never a provider's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Union

# A path into the parsed JSON body: object keys and array indices, outermost first.
# ("messages", 3, "content", 0, "content") names the string that holds one tool output's text.
JsonPath = tuple[Union[str, int], ...]


class Frame(Protocol):
    """How an agent wrapped a command's output inside the string it sent (``addon/framing``).

    ``outer`` is that whole string; ``rebuild`` puts new texts in place of the framed pieces
    (keyed like ``FramePart.key``) and keeps every other character of ``outer``.
    """

    outer: str

    def rebuild(self, new_texts: Mapping[str, str]) -> str: ...


@dataclass(frozen=True)
class FramePart:
    """Which piece of a frame an output's text is (a JSON observation's ``output_head``)."""

    frame: Frame
    key: str = ""


@dataclass(frozen=True)
class ToolOutput:
    """One tool result as the model will read it.

    ``text`` is the exact string at ``path`` in the body (or, with a ``frame``, the command's
    output inside it); writing a new string at that path is the only change a rewrite makes.
    """

    provider: str
    """Wire format that produced it: "anthropic", "openai-chat", "openai-responses", "gemini"."""
    path: JsonPath
    """Where ``text`` lives in the body."""
    text: str
    """The command's output as the model reads it: with a ``frame``, the piece inside it."""
    tool_name: str = ""
    """Name of the tool the model called ("" when the body does not say)."""
    arguments: Any = None
    """The call's arguments, parsed from JSON where the provider sends a JSON string."""
    call_id: str = ""
    is_error: bool = False
    """The provider-level error flag (Anthropic's ``is_error``), or the agent's own word for a
    failure in its framing (a non-zero exit code, a timeout notice); never guessed from the
    command's output itself."""
    turn: int = 0
    """Index of the message / input item / content entry that holds this output."""
    part: int = 0
    """Index of the text part within that tool result, for results split over several blocks."""
    exit_code: int | None = None
    """The exit code the agent's framing states (``<returncode>1</returncode>``), if any."""
    frame: FramePart | None = field(default=None, compare=False)
    """Set when ``text`` is a piece of the string at ``path``: the rest of it is the agent's
    framing, kept byte for byte (``frame.frame.rebuild`` writes a new text back)."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """Provider-specific details a wire format wants to carry (never needed by rules)."""
