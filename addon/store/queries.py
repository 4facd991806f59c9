"""Read-side summaries of the flow log (what ``headroom stats`` shows)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import Connection, and_, case, func, select

from headroom_mitm.addon.store.models import Flow, Original

__all__ = ["UsageRow", "CredentialRow", "usage_by_model", "requests_by_credential", "total_of", "originals_by_ref"]


@dataclass(frozen=True)
class UsageRow:
    """Requests and tokens for one provider and model (or the total, with provider "total")."""

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

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["saved_percent"] = _rounded(self.saved_percent, 2)
        row["cache_read_share"] = _rounded(self.cache_read_share, 4)
        return row


def usage_by_model(connection: Connection, since: Optional[datetime] = None) -> list[UsageRow]:
    """One row per (provider, model), busiest first."""
    both_counted = and_(Flow.tokens_before.is_not(None), Flow.tokens_after.is_not(None))
    requests = func.count(Flow.id)
    query = (
        select(
            Flow.provider,
            Flow.model,
            requests,
            func.sum(case((both_counted, Flow.tokens_before), else_=0)),
            func.sum(case((both_counted, Flow.tokens_after), else_=0)),
            func.sum(func.coalesce(Flow.usage_input, 0)),
            func.sum(func.coalesce(Flow.usage_output, 0)),
            func.sum(func.coalesce(Flow.usage_cache_read, 0)),
            func.sum(func.coalesce(Flow.usage_cache_write, 0)),
        )
        .group_by(Flow.provider, Flow.model)
        .order_by(requests.desc(), Flow.provider, Flow.model)
    )
    if since is not None:
        query = query.where(Flow.started_at >= since)
    return [
        UsageRow(
            provider=provider or "",
            model=model or "",
            requests=int(count),
            tokens_before=int(before or 0),
            tokens_after=int(after or 0),
            usage_input=int(usage_input or 0),
            usage_output=int(usage_output or 0),
            usage_cache_read=int(cache_read or 0),
            usage_cache_write=int(cache_write or 0),
        )
        for provider, model, count, before, after, usage_input, usage_output, cache_read, cache_write in (
            connection.execute(query)
        )
    ]


def total_of(rows: Iterable[UsageRow]) -> UsageRow:
    rows = list(rows)
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
    )


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
