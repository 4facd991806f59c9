"""The flow log's ``breakers``: credentials whose requests the proxy stopped rewriting."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Connection, inspect, select, update

from headroom_mitm.addon.store.entries import BreakerTrip
from headroom_mitm.addon.store.models import Breaker

__all__ = ["active_breakers", "reset_breakers"]


def active_breakers(connection: Connection) -> list[BreakerTrip]:
    """Every breaker not re-armed since it tripped, oldest first (none for a log without the table)."""
    if "breakers" not in inspect(connection).get_table_names():
        return []
    rows = connection.execute(
        select(Breaker.credential_id, Breaker.credential_kind, Breaker.provider, Breaker.reason,
               Breaker.tripped_at)
        .where(Breaker.reset_at.is_(None)).order_by(Breaker.tripped_at, Breaker.id)
    )
    return [BreakerTrip(*row) for row in rows]


def reset_breakers(connection: Connection, credential_id: str | None = None) -> int:
    """Re-arm the breaker of ``credential_id`` (a prefix is enough), or every one; how many were."""
    statement = update(Breaker).where(Breaker.reset_at.is_(None))
    if credential_id is not None:
        statement = statement.where(Breaker.credential_id.startswith(credential_id))
    return connection.execute(statement.values(reset_at=datetime.now(timezone.utc))).rowcount or 0
