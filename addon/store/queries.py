"""Read-side summaries of the flow log (what ``headroom stats`` shows)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import Connection, and_, case, func, select

from headroom_mitm.addon.store.models import Flow, Original, ToolCall

__all__ = ["UsageRow", "ToolRow", "CredentialRow", "MISS_CAUSES", "GROUPINGS", "usage_by", "usage_by_model",
           "savings_by_tool", "spend_since", "requests_by_credential", "total_of", "originals_by_ref"]


MISS_CAUSES = ("client", "proxy", "expired", "evicted")
"""The causes of a prompt-cache miss (``addon/cost/misses.py``), in the order tables show them."""
GROUPINGS = ("model", "session", "day", "tool")


@dataclass(frozen=True)
class UsageRow:
    """Requests, tokens and dollars for one group (provider and model, a session or a day), or
    the total (provider "total")."""

    provider: str
    model: str
    requests: int
    tokens_before: int
    """Request tokens before compression, over requests where both counts are known."""
    tokens_after: int
    usage_input: int
    usage_output: int
    usage_cache_read: int
    usage_cache_write: int
    group: str = ""
    """The session id or the day (YYYY-MM-DD, UTC) when grouped by one; "" by provider and model."""
    cost_usd: float = 0.0
    """Billed, over the requests whose model has a price."""
    saved_usd: float = 0.0
    saved_tokens: int = 0
    unpriced: int = 0
    """Requests with usage but no price for their model: their dollars are unknown."""
    misses: dict[str, int] = field(default_factory=dict)
    """Cache misses by cause (``MISS_CAUSES``)."""

    @property
    def saved_percent(self) -> Optional[float]:
        if not self.tokens_before:
            return None
        return 100.0 * (self.tokens_before - self.tokens_after) / self.tokens_before

    @property
    def cache_read_share(self) -> Optional[float]:
        """Share of billed input tokens served from the provider's prompt cache."""
        billed_input = self.usage_input + self.usage_cache_read + self.usage_cache_write
        if not billed_input:
            return None
        return self.usage_cache_read / billed_input

    @property
    def priced(self) -> bool:
        """Whether the dollars cover every request that reported usage."""
        return self.unpriced == 0

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["saved_percent"] = _rounded(self.saved_percent, 2)
        row["cache_read_share"] = _rounded(self.cache_read_share, 4)
        row["cost_usd"] = round(self.cost_usd, 6)
        row["saved_usd"] = round(self.saved_usd, 6)
        return row


def usage_by_model(connection: Connection, since: Optional[datetime] = None) -> list[UsageRow]:
    """One row per (provider, model), busiest first."""
    return usage_by(connection, "model", since)


def usage_by(connection: Connection, by: str, since: Optional[datetime] = None) -> list[UsageRow]:
    """One row per (provider, model), session or UTC day, busiest first (days in order)."""
    if by not in GROUPINGS or by == "tool":
        raise ValueError(f"cannot group flows by {by!r} (use one of model, session, day)")
    both_counted = and_(Flow.tokens_before.is_not(None), Flow.tokens_after.is_not(None))
    requests = func.count(Flow.id)
    keys: list[Any] = {"model": [Flow.provider, Flow.model],
                       "session": [func.coalesce(Flow.session_id, "")],
                       "day": [func.date(Flow.started_at)]}[by]
    unpriced = and_(Flow.cost_usd.is_(None), Flow.usage_input.is_not(None))
    query = (
        select(
            *keys,
            requests,
            func.sum(case((both_counted, Flow.tokens_before), else_=0)),
            func.sum(case((both_counted, Flow.tokens_after), else_=0)),
            func.sum(func.coalesce(Flow.usage_input, 0)),
            func.sum(func.coalesce(Flow.usage_output, 0)),
            func.sum(func.coalesce(Flow.usage_cache_read, 0)),
            func.sum(func.coalesce(Flow.usage_cache_write, 0)),
            func.sum(func.coalesce(Flow.cost_usd, 0.0)),
            func.sum(func.coalesce(Flow.saved_usd, 0.0)),
            func.sum(func.coalesce(Flow.saved_tokens, 0)),
            func.sum(case((unpriced, 1), else_=0)),
            *(func.sum(case((Flow.cache_miss == cause, 1), else_=0)) for cause in MISS_CAUSES),
        )
        .group_by(*keys)
        .order_by(*(keys if by == "day" else [requests.desc(), *keys]))
    )
    if since is not None:
        query = query.where(Flow.started_at >= since)
    rows = []
    for record in connection.execute(query):
        values = list(record)
        key = values[: len(keys)]
        (count, before, after, usage_input, usage_output, cache_read, cache_write, cost, saved,
         saved_tokens, unpriced_count, *misses) = values[len(keys):]
        rows.append(UsageRow(
            provider=(key[0] or "") if by == "model" else "",
            model=(key[1] or "") if by == "model" else "",
            group="" if by == "model" else str(key[0] or ""),
            requests=int(count),
            tokens_before=int(before or 0),
            tokens_after=int(after or 0),
            usage_input=int(usage_input or 0),
            usage_output=int(usage_output or 0),
            usage_cache_read=int(cache_read or 0),
            usage_cache_write=int(cache_write or 0),
            cost_usd=float(cost or 0.0),
            saved_usd=float(saved or 0.0),
            saved_tokens=int(saved_tokens or 0),
            unpriced=int(unpriced_count or 0),
            misses={cause: int(n or 0) for cause, n in zip(MISS_CAUSES, misses) if n},
        ))
    return rows


def total_of(rows: Iterable[UsageRow]) -> UsageRow:
    rows = list(rows)
    misses: dict[str, int] = {}
    for row in rows:
        for cause, n in row.misses.items():
            misses[cause] = misses.get(cause, 0) + n
    return UsageRow(
        provider="total",
        model="",
        requests=sum(row.requests for row in rows),
        tokens_before=sum(row.tokens_before for row in rows),
        tokens_after=sum(row.tokens_after for row in rows),
        usage_input=sum(row.usage_input for row in rows),
        usage_output=sum(row.usage_output for row in rows),
        usage_cache_read=sum(row.usage_cache_read for row in rows),
        usage_cache_write=sum(row.usage_cache_write for row in rows),
        cost_usd=sum(row.cost_usd for row in rows),
        saved_usd=sum(row.saved_usd for row in rows),
        saved_tokens=sum(row.saved_tokens for row in rows),
        unpriced=sum(row.unpriced for row in rows),
        misses=misses,
    )


@dataclass(frozen=True)
class ToolRow:
    """The tool calls of one tool (each stored once however often it was resent), and what
    compression made of their outputs."""

    tool: str
    calls: int
    compressed: int
    tokens_before: int
    """o200k tokens of the compressed outputs as the agent sent them ..."""
    tokens_after: int
    """... and as they went upstream."""
    compressors: dict[str, int]
    """compressor chain -> calls it changed."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def savings_by_tool(connection: Connection, since: Optional[datetime] = None) -> list[ToolRow]:
    """One row per tool, most tokens saved first."""
    query = select(ToolCall.tool, ToolCall.compressor, func.count(ToolCall.id),
                   func.sum(func.coalesce(ToolCall.tokens_before, 0)),
                   func.sum(func.coalesce(ToolCall.tokens_after, 0))).group_by(ToolCall.tool, ToolCall.compressor)
    if since is not None:
        query = query.where(ToolCall.seen_at >= since)
    grouped: dict[str, dict[str, Any]] = {}
    for tool, compressor, count, before, after in connection.execute(query):
        row = grouped.setdefault(tool or "", {"calls": 0, "compressed": 0, "tokens_before": 0,
                                              "tokens_after": 0, "compressors": {}})
        row["calls"] += int(count)
        if compressor:
            row["compressed"] += int(count)
            row["tokens_before"] += int(before or 0)
            row["tokens_after"] += int(after or 0)
            row["compressors"][compressor] = row["compressors"].get(compressor, 0) + int(count)
    rows = [ToolRow(tool, **values) for tool, values in grouped.items()]
    return sorted(rows, key=lambda row: (-(row.tokens_before - row.tokens_after), -row.calls, row.tool))


def spend_since(connection: Connection, since: datetime) -> list[tuple[datetime, str, float]]:
    """(started, provider, billed USD) of every priced flow since ``since``: what budgets count."""
    query = (select(Flow.started_at, Flow.provider, Flow.cost_usd)
             .where(Flow.started_at >= since, Flow.cost_usd.is_not(None), Flow.cost_usd > 0))
    return [(started, provider or "", float(cost)) for started, provider, cost in connection.execute(query)]


def _rounded(value: Optional[float], digits: int) -> Optional[float]:
    return None if value is None else round(value, digits)


def originals_by_ref(connection: Connection, ref: str, limit: int = 2) -> list[str]:
    """The contents kept under hashes starting with ``ref`` (a marker's 12 hex digits or more),
    at most ``limit``: more than one means the ref is ambiguous."""
    return list(connection.execute(
        select(Original.content).where(Original.hash.startswith(ref.lower())).limit(limit)
    ).scalars())


@dataclass(frozen=True)
class CredentialRow:
    """Requests of one agent with one kind of credential: how many were compressed, how many went
    unmodified and why, and the billing buckets the provider named."""

    agent: str
    credential_kind: str
    requests: int
    compressed: int
    unmodified: dict[str, int]
    """reason -> requests: ``attested``, ``policy``, ``verifying``, ``breaker``, or
    ``nothing to rewrite`` (the policy allowed it, no output needed it)."""
    buckets: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def requests_by_credential(connection: Connection, since: Optional[datetime] = None) -> list[CredentialRow]:
    """One row per (agent without its version, credential kind), busiest first."""
    from headroom_mitm.addon.agents import agent_name

    rewritten = Flow.tool_outputs_rewritten > 0
    query = select(Flow.agent, Flow.credential_kind, rewritten, Flow.unmodified_reason,
                   Flow.billing_bucket, func.count(Flow.id)).group_by(
        Flow.agent, Flow.credential_kind, rewritten, Flow.unmodified_reason, Flow.billing_bucket)
    if since is not None:
        query = query.where(Flow.started_at >= since)
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for agent, kind, was_rewritten, reason, bucket, count in connection.execute(query):
        row = grouped.setdefault((agent_name(agent), kind or "unknown"),
                                 {"requests": 0, "compressed": 0, "unmodified": {}, "buckets": {}})
        row["requests"] += count
        if was_rewritten:
            row["compressed"] += count
        else:
            why = reason or "nothing to rewrite"
            row["unmodified"][why] = row["unmodified"].get(why, 0) + count
        if bucket:
            row["buckets"][bucket] = row["buckets"].get(bucket, 0) + count
    rows = [CredentialRow(agent, kind, **values) for (agent, kind), values in grouped.items()]
    return sorted(rows, key=lambda row: (-row.requests, row.agent, row.credential_kind))
