"""The flow log's tables: one row per provider call, each distinct tool call once, kept originals.

The schema is meant to be opened and queried by people (``sqlite3 ~/.headroom/flows.db``), so
columns are plain: text, integers, UTC timestamps. No header and no credential is ever stored;
every text column passes through ``addon.redact`` on its way in. A change here needs a revision
in ``store/migrations`` too (its docstring says how; a test fails until the two agree).

Token columns, for whoever fills them:
    tokens_before / tokens_after
        o200k_base tokens of the request's text (system prompt, tool definitions, every turn)
        as the agent sent it and as it went upstream.
    usage_input
        input tokens the provider billed at the full rate, *excluding* cache reads and writes
        (Anthropic's ``input_tokens``; OpenAI's ``prompt_tokens`` minus ``cached_tokens``).
    usage_cache_read / usage_cache_write
        input tokens served from / written to the provider's prompt cache.
    usage_output
        output tokens.
    usage_cache_write_1h
        the part of usage_cache_write written with the 1-hour lifetime (Anthropic).

Cost columns (``addon/cost``; README "What it saved, in dollars"):
    cost_usd / saved_usd
        USD billed, from the usage and the price table; USD saved, estimated (negative when
        the proxy's own rewrites cost more cache writes than compression saved). NULL: the
        model has no price ("unknown").
    cache_miss
        why the prompt cache missed where a read was expected: "evicted", "expired",
        "client" or "proxy"; cache_miss_where says which part changed.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "Flow", "ToolCall", "Original", "Breaker", "Meta", "UtcDateTime", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite has no time zones: values are converted to UTC and stored without an offset, so a
    file written on one machine reads the same on another. Naive datetimes are taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class Flow(Base):
    """One request to a provider, with what compression did to it and what the provider billed."""

    __tablename__ = "flows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True, default=utc_now)
    host: Mapped[str] = mapped_column(String, default="")
    path: Mapped[str] = mapped_column(Text, default="")
    """Request path; secret query parameters removed."""
    method: Mapped[str] = mapped_column(String, default="POST")
    provider: Mapped[str] = mapped_column(String, default="")
    model: Mapped[str] = mapped_column(String, default="")
    transport: Mapped[str] = mapped_column(String, default="http")
    """"http" or "websocket"."""
    status_code: Mapped[Optional[int]] = mapped_column(Integer)
    latency_ms: Mapped[Optional[float]] = mapped_column(Float)
    request_bytes_before: Mapped[Optional[int]] = mapped_column(Integer)
    request_bytes_after: Mapped[Optional[int]] = mapped_column(Integer)
    tokens_before: Mapped[Optional[int]] = mapped_column(Integer)
    tokens_after: Mapped[Optional[int]] = mapped_column(Integer)
    usage_input: Mapped[Optional[int]] = mapped_column(Integer)
    usage_output: Mapped[Optional[int]] = mapped_column(Integer)
    usage_cache_read: Mapped[Optional[int]] = mapped_column(Integer)
    usage_cache_write: Mapped[Optional[int]] = mapped_column(Integer)
    stop_reason: Mapped[Optional[str]] = mapped_column(String)
    mode: Mapped[str] = mapped_column(String, default="cache")
    """"cache", "token" or "off"."""
    session_id: Mapped[Optional[str]] = mapped_column(String, index=True)
    project: Mapped[Optional[str]] = mapped_column(Text)
    """The agent's working directory, when the request says it."""
    error: Mapped[Optional[str]] = mapped_column(Text)
    tool_outputs: Mapped[int] = mapped_column(Integer, default=0)
    tool_outputs_rewritten: Mapped[int] = mapped_column(Integer, default=0)
    agent: Mapped[Optional[str]] = mapped_column(String)
    """The client, from its User-Agent: ``claude-cli/2.1.197``, ``codex_cli_rs/0.171.0``."""
    credential_kind: Mapped[Optional[str]] = mapped_column(String)
    """"api_key", "subscription" (an OAuth or ChatGPT login) or "none"."""
    credential_id: Mapped[Optional[str]] = mapped_column(String(16))
    """sha256 of the credential, first 16 hex digits: which requests share one, never the secret."""
    attested: Mapped[Optional[bool]] = mapped_column(Boolean)
    """The body carried its client's attestation (Claude Code's ``cch=`` billing line)."""
    policy: Mapped[Optional[str]] = mapped_column(String)
    """The ``credentials:`` policy applied: "keep", "verify" or "rewrite"."""
    unmodified_reason: Mapped[Optional[str]] = mapped_column(String)
    """Why the policy forwarded the body unmodified: "attested", "policy", "breaker", "verifying"."""
    billing_bucket: Mapped[Optional[str]] = mapped_column(String)
    """What the provider says the request counted against (``five_hour``, ``overage`` ...)."""
    billing: Mapped[Optional[str]] = mapped_column(Text)
    """The response's rate-limit and billing headers, as JSON."""
    refusal: Mapped[Optional[str]] = mapped_column(Text)
    """The provider's message when it refused a request as third-party or out of extra usage."""
    retried: Mapped[Optional[bool]] = mapped_column(Boolean)
    """A refused rewritten request was sent again with the client's original bytes."""
    usage_cache_write_1h: Mapped[Optional[int]] = mapped_column(Integer)
    cost_usd: Mapped[Optional[float]] = mapped_column(Float)
    saved_usd: Mapped[Optional[float]] = mapped_column(Float)
    saved_tokens: Mapped[Optional[int]] = mapped_column(Integer)
    """Request tokens compression removed, in the provider's count (ours scaled to its input)."""
    price_checked: Mapped[Optional[str]] = mapped_column(String)
    """The day the price used was checked, from the price table."""
    cache_miss: Mapped[Optional[str]] = mapped_column(String)
    cache_miss_where: Mapped[Optional[str]] = mapped_column(Text)
    cache_miss_tokens: Mapped[Optional[int]] = mapped_column(Integer)
    """Tokens an earlier request had cached that this one wrote again."""
    limited: Mapped[Optional[str]] = mapped_column(Text)
    """The budget or rate limit that refused the request with a 429 (it never went upstream)."""

    __table_args__ = (Index("ix_flows_provider_model_started", "provider", "model", "started_at"),)


class ToolCall(Base):
    """A tool call and its output, stored once however many later requests repeat it."""

    __tablename__ = "tool_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    """``tool_call_fingerprint(...)``: the dedupe key shared by the proxy and transcript imports."""
    session_id: Mapped[str] = mapped_column(String, default="")
    project: Mapped[Optional[str]] = mapped_column(Text)
    call_id: Mapped[str] = mapped_column(String, default="")
    tool: Mapped[str] = mapped_column(String, default="")
    arguments: Mapped[Optional[str]] = mapped_column(Text)
    """The call's arguments as JSON text."""
    output: Mapped[str] = mapped_column(Text, default="")
    is_error: Mapped[bool] = mapped_column(Boolean, default=False)
    exit_code: Mapped[Optional[int]] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String, default="")
    flow_id: Mapped[Optional[int]] = mapped_column(ForeignKey("flows.id"), index=True)
    """The first flow this call was seen in (none for imported transcripts)."""
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    position: Mapped[int] = mapped_column(Integer, default=0)
    """Ordinal of the call in its conversation."""
    source: Mapped[str] = mapped_column(String, default="proxy")
    """"proxy" or "import:<agent>"."""
    compressor: Mapped[Optional[str]] = mapped_column(String)
    """The compressors that changed the output, joined by "+", when any did."""
    tokens_before: Mapped[Optional[int]] = mapped_column(Integer)
    tokens_after: Mapped[Optional[int]] = mapped_column(Integer)
    """o200k tokens of the output as the agent sent it and as it went upstream."""
    sent: Mapped[Optional[str]] = mapped_column(Text)
    """The output as it went upstream, when compression changed it."""

    # learn reads a session's calls in time order (a subagent restarts positions at 0); the
    # indexes also serve lookups by session alone
    __table_args__ = (
        Index("ix_tool_calls_session_position", "session_id", "position"),
        Index("ix_tool_calls_session_seen_position", "session_id", "seen_at", "position"),
    )


class Original(Base):
    """Text a lossy compressor dropped, under the sha256 of the original, so it can be retrieved."""

    __tablename__ = "originals"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    flow_id: Mapped[Optional[int]] = mapped_column(ForeignKey("flows.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class Breaker(Base):
    """A credential whose requests the proxy stopped rewriting, and why (kept across restarts)."""

    __tablename__ = "breakers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    credential_id: Mapped[str] = mapped_column(String(16), index=True)
    credential_kind: Mapped[str] = mapped_column(String, default="")
    provider: Mapped[str] = mapped_column(String, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    tripped_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    flow_id: Mapped[Optional[int]] = mapped_column(ForeignKey("flows.id"))
    """The flow whose answer tripped it."""
    reset_at: Mapped[Optional[datetime]] = mapped_column(UtcDateTime)
    """When ``headroom breaker reset`` re-armed it; None while it holds."""


class Meta(Base):
    """Key/value facts about the file itself. ``schema_version`` stays "1", what releases before
    migrations read; the revision is in Alembic's ``alembic_version`` table."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(Text)
