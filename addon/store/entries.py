"""What the proxy hands the flow log: plain values, built on the event loop, written elsewhere."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime
from typing import Any, Optional

from headroom_mitm.addon.store.models import utc_now

__all__ = ["BreakerTrip", "FlowEntry", "ToolCallEntry", "tool_call_fingerprint"]


def tool_call_fingerprint(session_id: str, call_id: str, position: int, tool: str, output: str) -> str:
    """The dedupe key of a tool call: sha256 hex of (session, call id or position, tool, output).

    A conversation repeats every earlier tool call in each request; the key makes the log keep
    each one once. The proxy and transcript imports both use this function on the output as the
    agent produced it (before compression), so a proxied conversation and its imported transcript
    dedupe against each other. The position stands in only when there is no call id.
    """
    identity = call_id if call_id else f"#{position}"
    encoded = json.dumps([session_id or "", identity, tool or "", output or ""], ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class ToolCallEntry:
    """One tool call with its output, as a request (or a transcript) shows it."""

    session_id: str
    call_id: str
    tool: str
    arguments: Any
    """Anything JSON can hold; stored as JSON text."""
    output: str
    """The output as the agent produced it, before any compression."""
    is_error: bool = False
    provider: str = ""
    position: int = 0
    """Ordinal of the call in its conversation."""
    project: Optional[str] = None
    source: str = "proxy"
    """"proxy" or "import:<agent>"."""
    exit_code: Optional[int] = None
    """When the source states it (Codex metadata); otherwise read from the output on write."""
    seen_at: Optional[datetime] = None
    """When the call happened, if known (a transcript's timestamp); else the flow's start."""
    compressor: Optional[str] = None
    tokens_before: Optional[int] = None
    tokens_after: Optional[int] = None
    sent: Optional[str] = None
    """The output as it went upstream, when compression changed it."""

    @cached_property
    def fingerprint(self) -> str:
        """Computed on first use and kept: finish changing the fields before the entry is recorded."""
        return tool_call_fingerprint(self.session_id, self.call_id, self.position, self.tool, self.output)


@dataclass(frozen=True)
class BreakerTrip:
    credential_id: str
    credential_kind: str
    provider: str
    reason: str
    tripped_at: datetime

    def as_dict(self) -> dict[str, str]:
        return {"credential_id": self.credential_id, "credential_kind": self.credential_kind,
                "provider": self.provider, "reason": self.reason, "tripped_at": self.tripped_at.isoformat()}


@dataclass
class FlowEntry:
    """One provider call as the log will store it. See ``addon.store.models.Flow`` for the columns."""

    host: str = ""
    path: str = ""
    method: str = "POST"
    provider: str = ""
    model: str = ""
    started_at: datetime = field(default_factory=utc_now)
    transport: str = "http"
    status_code: Optional[int] = None
    latency_ms: Optional[float] = None
    request_bytes_before: Optional[int] = None
    request_bytes_after: Optional[int] = None
    tokens_before: Optional[int] = None
    tokens_after: Optional[int] = None
    usage_input: Optional[int] = None
    usage_output: Optional[int] = None
    usage_cache_read: Optional[int] = None
    usage_cache_write: Optional[int] = None
    stop_reason: Optional[str] = None
    mode: str = "cache"
    session_id: Optional[str] = None
    project: Optional[str] = None
    error: Optional[str] = None
    tool_outputs: int = 0
    tool_outputs_rewritten: int = 0
    tool_calls: list[ToolCallEntry] = field(default_factory=list)
    originals: dict[str, str] = field(default_factory=dict)
    """sha256 hex of an original -> its content."""
    agent: Optional[str] = None
    credential_kind: Optional[str] = None
    credential_id: Optional[str] = None
    attested: Optional[bool] = None
    policy: Optional[str] = None
    unmodified_reason: Optional[str] = None
    billing_bucket: Optional[str] = None
    billing: Optional[str] = None
    refusal: Optional[str] = None
    retried: Optional[bool] = None
    usage_cache_write_1h: Optional[int] = None
    cost_usd: Optional[float] = None
    saved_usd: Optional[float] = None
    saved_tokens: Optional[int] = None
    price_checked: Optional[str] = None
    cache_miss: Optional[str] = None
    cache_miss_where: Optional[str] = None
    cache_miss_tokens: Optional[int] = None
    limited: Optional[str] = None
    breaker_trip: Optional[BreakerTrip] = None
    """A breaker this flow's answer tripped, written to ``breakers`` with the flow."""
    known_secrets: tuple[str, ...] = ()
    """Credential values from this request's headers (``secrets_from_headers``): removed from
    every stored text and never stored themselves."""

    def __repr__(self) -> str:
        # never show known_secrets (or a whole conversation) in a log line or a traceback
        return (
            f"FlowEntry(provider={self.provider!r}, model={self.model!r}, host={self.host!r}, "
            f"tool_calls={len(self.tool_calls)}, originals={len(self.originals)})"
        )
