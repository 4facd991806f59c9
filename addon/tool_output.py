"""The one neutral shape that crosses the rooms: a tool output inside a request body.

Wire formats (``addon/providers``) turn a body into these and write changed texts back;
rules and compressors only ever see this shape, never a provider's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

# A path into the parsed JSON body: object keys and array indices, outermost first.
# ("messages", 3, "content", 0, "content") names the string that holds one tool output's text.
JsonPath = tuple[Union[str, int], ...]


@dataclass(frozen=True)
class ToolOutput:
    """One tool result as the model will read it.

    ``text`` is the exact string at ``path`` in the body; writing a new string at that path is
    the only change a rewrite ever makes.
    """

    provider: str
    """Wire format that produced it: "anthropic", "openai-chat", "openai-responses", "gemini"."""
    path: JsonPath
    """Where ``text`` lives in the body."""
    text: str
    tool_name: str = ""
    """Name of the tool the model called ("" when the body does not say)."""
    arguments: Any = None
    """The call's arguments, parsed from JSON where the provider sends a JSON string."""
    call_id: str = ""
    is_error: bool = False
    """The provider-level error flag (Anthropic's ``is_error``); not guessed from the text."""
    turn: int = 0
    """Index of the message / input item / content entry that holds this output."""
    part: int = 0
    """Index of the text part within that tool result, for results split over several blocks."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """Provider-specific details a wire format wants to carry (never needed by rules)."""
