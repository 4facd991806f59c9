"""Wire formats: from a provider's request body to tool outputs and back, and responses to usage.

``for_request(host, path)`` picks the format by the URL path alone, because gateways
(OpenRouter, LiteLLM, company proxies) speak the big providers' formats on their own hosts.
Endpoints that carry no conversation (token counting, model lists, embeddings) get ``None`` and
are passed through untouched.
"""

from __future__ import annotations

from headroom_mitm.addon.providers._base import StreamParser, WireFormat
from headroom_mitm.addon.providers._splice import SpliceError, splice
from headroom_mitm.addon.providers._summary import ResponseSummary, ToolCall, Usage
from headroom_mitm.addon.providers.anthropic import FORMAT as ANTHROPIC
from headroom_mitm.addon.providers.gemini import GeminiFormat, model_from_path
from headroom_mitm.addon.providers.openai_chat import FORMAT as OPENAI_CHAT
from headroom_mitm.addon.providers.openai_responses import FORMAT as OPENAI_RESPONSES
from headroom_mitm.addon.providers.openai_responses import summary_from_ws_message

__all__ = [
    "WireFormat",
    "StreamParser",
    "Usage",
    "ToolCall",
    "ResponseSummary",
    "SpliceError",
    "splice",
    "for_request",
    "by_name",
    "summary_from_ws_message",
    "FORMAT_NAMES",
]

FORMAT_NAMES = ("anthropic", "openai-chat", "openai-responses", "gemini")


def for_request(host: str, path: str) -> WireFormat | None:
    """The wire format of a request to ``path`` (query string allowed), or None to pass it through.

    ``host`` is accepted for callers' symmetry and future host-specific quirks; the choice is
    made by path so that every gateway speaking a known format is covered.
    """
    route = path.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    if route.endswith((":generateContent", ":streamGenerateContent")):
        return GeminiFormat(model_from_path(route))
    if "/publishers/anthropic/" in route and route.endswith((":rawPredict", ":streamRawPredict")):
        return ANTHROPIC  # Claude on Vertex AI: a Messages body at a Vertex URL
    if route.endswith("/v1/messages"):
        return ANTHROPIC
    if route.endswith("/chat/completions"):
        return OPENAI_CHAT
    if route.endswith("/responses"):
        return OPENAI_RESPONSES
    # "/responses/compact" (Codex's compaction) falls through on purpose: its input is the
    # history the server condenses into an opaque item the conversation continues from, so
    # anything dropped there would be gone from it for good, beyond any marker's reference.
    return None


def by_name(name: str, path: str = "") -> WireFormat:
    """The format called ``name`` (one of ``FORMAT_NAMES``); ``path`` names Gemini's model."""
    if name == "anthropic":
        return ANTHROPIC
    if name == "openai-chat":
        return OPENAI_CHAT
    if name == "openai-responses":
        return OPENAI_RESPONSES
    if name == "gemini":
        return GeminiFormat(model_from_path(path))
    raise ValueError(f"unknown wire format {name!r}; expected one of {', '.join(FORMAT_NAMES)}")
