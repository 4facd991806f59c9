"""What a provider's response says about itself: token usage, why it stopped, the tools it called.

The same shapes serve every wire format, so the flow log and ``headroom learn`` never need to know
which provider answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Usage", "ToolCall", "ResponseSummary"]


@dataclass
class Usage:
    """Token counts, normalised across providers.

    ``input_tokens`` counts every prompt token the provider billed, cached or not (Anthropic
    reports cache reads and writes apart from ``input_tokens``; they are added back here so the
    field means the same for every provider). ``cache_read_tokens`` and ``cache_write_tokens`` are
    parts of it; ``reasoning_tokens`` is part of ``output_tokens``.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_1h_tokens: int = 0
    """Part of ``cache_write_tokens`` written with the 1-hour lifetime (Anthropic)."""

    @property
    def uncached_input_tokens(self) -> int:
        return max(0, self.input_tokens - self.cache_read_tokens - self.cache_write_tokens)

    @property
    def is_empty(self) -> bool:
        return not (self.input_tokens or self.output_tokens or self.cache_read_tokens
                    or self.cache_write_tokens)


@dataclass
class ToolCall:
    """One tool call the model made; ``arguments`` is the text the provider sent (JSON or free)."""

    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass
class ResponseSummary:
    """Everything worth logging about one response, filled in as its events arrive."""

    usage: Usage = field(default_factory=Usage)
    stop_reason: str | None = None
    model: str | None = None
    response_id: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    error: str | None = None
    """The provider's error message when the response (or a stream event) reports one."""
    events: int = 0
    """Events or JSON objects understood; 0 means nothing recognisable arrived."""
