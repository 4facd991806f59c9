"""Write entries into the flow log inside a caller's transaction (synchronous, no threads).

The writer thread uses these for proxied flows; transcript imports call ``write_tool_calls``
directly, so both paths redact and dedupe the same way. Every text column goes through
``addon.redact`` here, whatever the caller already did.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from headroom_mitm.addon.redact import redact_json, redact_text, redact_url_path
from headroom_mitm.addon.store.entries import BreakerTrip, FlowEntry, ToolCallEntry
from headroom_mitm.addon.store.exit_codes import exit_code_of
from headroom_mitm.addon.store.models import Breaker, Flow, Original, ToolCall, utc_now

__all__ = ["ToolCallsWritten", "write_flow", "write_flows", "write_breaker", "write_tool_calls", "write_originals"]

logger = logging.getLogger(__name__)

# Keeps "WHERE fingerprint IN (...)" under every database's parameter limit.
_LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class ToolCallsWritten:
    added: int
    already_present: int


def write_flow(connection: Connection, entry: FlowEntry, skip_fingerprints: Container[str] = frozenset()) -> int:
    """Insert one flow, its new tool calls and its originals; return the flow's id.

    ``skip_fingerprints``: tool calls known to be stored already (not even looked up).
    """
    return write_flows(connection, [entry], skip_fingerprints)[0]


def write_flows(
    connection: Connection, entries: Sequence[FlowEntry], skip_fingerprints: Container[str] = frozenset()
) -> list[int]:
    """Insert a batch of flows, then their new tool calls, then their originals; return the flows' ids.

    Tool calls and originals are inserted in the order of their keys, across the whole batch:
    two proxies writing the same conversations then take the keys' locks in the same order and
    cannot deadlock on them. A call or original carried by several entries points at the first.
    """
    flow_ids = [_insert_flow(connection, entry) for entry in entries]
    calls: dict[str, tuple[ToolCallEntry, int, datetime, Sequence[str]]] = {}
    originals: dict[str, tuple[str, int, Sequence[str]]] = {}
    for entry, flow_id in zip(entries, flow_ids):
        for call in entry.tool_calls:
            if call.fingerprint not in skip_fingerprints and call.fingerprint not in calls:
                calls[call.fingerprint] = (call, flow_id, entry.started_at, entry.known_secrets)
        for key, content in entry.originals.items():
            originals.setdefault(key, (content, flow_id, entry.known_secrets))
    if calls:
        present = _existing_keys(connection, ToolCall.__table__, "fingerprint", calls)
        rows = [
            _tool_call_row(fingerprint, call, flow_id, started_at, secrets)
            for fingerprint, (call, flow_id, started_at, secrets) in sorted(calls.items(), key=_by_key)
            if fingerprint not in present
        ]
        if rows:
            _insert_ignoring_duplicates(connection, ToolCall.__table__, rows, "fingerprint")
    if originals:
        present = _existing_keys(connection, Original.__table__, "hash", originals)
        now = utc_now()
        rows = [
            {"hash": key, "content": redact_text(content, secrets), "flow_id": flow_id, "created_at": now}
            for key, (content, flow_id, secrets) in sorted(originals.items(), key=_by_key)
            if key not in present
        ]
        if rows:
            _insert_ignoring_duplicates(connection, Original.__table__, rows, "hash")
    return flow_ids


def _insert_flow(connection: Connection, entry: FlowEntry) -> int:
    secrets = entry.known_secrets
    flow_row = _storable(
        connection,
        dict(
            started_at=entry.started_at,
            host=entry.host,
            path=redact_text(redact_url_path(entry.path), secrets),
            method=entry.method,
            provider=entry.provider,
            model=entry.model,
            transport=entry.transport,
            status_code=entry.status_code,
            latency_ms=entry.latency_ms,
            request_bytes_before=entry.request_bytes_before,
            request_bytes_after=entry.request_bytes_after,
            tokens_before=entry.tokens_before,
            tokens_after=entry.tokens_after,
            usage_input=entry.usage_input,
            usage_output=entry.usage_output,
            usage_cache_read=entry.usage_cache_read,
            usage_cache_write=entry.usage_cache_write,
            stop_reason=entry.stop_reason,
            mode=entry.mode,
            session_id=entry.session_id,
            project=_redact_optional(entry.project, secrets),
            error=_redact_optional(entry.error, secrets),
            tool_outputs=entry.tool_outputs,
            tool_outputs_rewritten=entry.tool_outputs_rewritten,
            agent=entry.agent,
            credential_kind=entry.credential_kind,
            credential_id=entry.credential_id,
            attested=entry.attested,
            policy=entry.policy,
            unmodified_reason=entry.unmodified_reason,
            billing_bucket=entry.billing_bucket,
            billing=entry.billing,
            refusal=_redact_optional(entry.refusal, secrets),
            retried=entry.retried,
            usage_cache_write_1h=entry.usage_cache_write_1h,
            cost_usd=entry.cost_usd,
            saved_usd=entry.saved_usd,
            saved_tokens=entry.saved_tokens,
            price_checked=entry.price_checked,
            cache_miss=entry.cache_miss,
            cache_miss_where=_redact_optional(entry.cache_miss_where, secrets),
            cache_miss_tokens=entry.cache_miss_tokens,
            limited=entry.limited,
        ),
    )
    flow_id = int(connection.execute(insert(Flow).values(**flow_row)).inserted_primary_key[0])
    if entry.breaker_trip is not None:
        write_breaker(connection, entry.breaker_trip, flow_id)
    return flow_id


def write_breaker(connection: Connection, trip: BreakerTrip, flow_id: int | None = None) -> None:
    connection.execute(insert(Breaker).values(
        credential_id=trip.credential_id, credential_kind=trip.credential_kind, provider=trip.provider,
        reason=trip.reason[:1000], tripped_at=trip.tripped_at, flow_id=flow_id,
    ))


def write_tool_calls(
    connection: Connection,
    calls: Iterable[ToolCallEntry],
    *,
    flow_id: Optional[int] = None,
    default_seen_at: Optional[datetime] = None,
    known_secrets: Sequence[str] = (),
) -> ToolCallsWritten:
    """Insert the calls not stored yet (by fingerprint, in fingerprint order); say how many were
    new and how many not."""
    by_fingerprint: dict[str, ToolCallEntry] = {}
    for call in calls:
        by_fingerprint.setdefault(call.fingerprint, call)
    if not by_fingerprint:
        return ToolCallsWritten(0, 0)
    present = _existing_keys(connection, ToolCall.__table__, "fingerprint", by_fingerprint)
    fallback_seen_at = default_seen_at or utc_now()
    rows = [
        _tool_call_row(fingerprint, call, flow_id, fallback_seen_at, known_secrets)
        for fingerprint, call in sorted(by_fingerprint.items(), key=_by_key)
        if fingerprint not in present
    ]
    if rows:
        _insert_ignoring_duplicates(connection, ToolCall.__table__, rows, "fingerprint")
    return ToolCallsWritten(added=len(rows), already_present=len(present))


def write_originals(
    connection: Connection,
    originals: Mapping[str, str],
    *,
    flow_id: Optional[int] = None,
    known_secrets: Sequence[str] = (),
) -> int:
    """Store originals under their hash (the key retrieval uses), once; return how many were new.

    The content is redacted, so it may no longer hash to its key: the key names the text the
    compressor dropped, the content is that text minus its secrets.
    """
    if not originals:
        return 0
    present = _existing_keys(connection, Original.__table__, "hash", originals)
    now = utc_now()
    rows = [
        {"hash": key, "content": redact_text(content, known_secrets), "flow_id": flow_id, "created_at": now}
        for key, content in sorted(originals.items(), key=_by_key)
        if key not in present
    ]
    if rows:
        _insert_ignoring_duplicates(connection, Original.__table__, rows, "hash")
    return len(rows)


def _tool_call_row(
    fingerprint: str,
    call: ToolCallEntry,
    flow_id: Optional[int],
    fallback_seen_at: datetime,
    secrets: Sequence[str],
) -> dict[str, Any]:
    output = call.output or ""
    return {
        "fingerprint": fingerprint,
        "session_id": call.session_id or "",
        "project": _redact_optional(call.project, secrets),
        "call_id": call.call_id or "",
        "tool": call.tool or "",
        "arguments": _arguments_json(call.arguments, secrets),
        "output": redact_text(output, secrets),
        "is_error": bool(call.is_error),
        "exit_code": call.exit_code if call.exit_code is not None else exit_code_of(output),
        "provider": call.provider or "",
        "flow_id": flow_id,
        "seen_at": call.seen_at or fallback_seen_at,
        "position": call.position,
        "source": call.source or "proxy",
        "compressor": call.compressor,
        "tokens_before": call.tokens_before,
        "tokens_after": call.tokens_after,
        "sent": None if call.sent is None else redact_text(call.sent, secrets),
    }


def _arguments_json(arguments: Any, secrets: Sequence[str]) -> Optional[str]:
    if arguments is None:
        return None
    structural = json.dumps(redact_json(arguments, secrets), ensure_ascii=False, default=str)
    # a second pass over the text catches a known secret that only appears JSON-escaped
    textual = redact_text(structural, secrets)
    if textual == structural:
        return structural
    try:
        json.loads(textual)
    except ValueError:
        return structural
    return textual


def _redact_optional(text: Optional[str], secrets: Sequence[str]) -> Optional[str]:
    return redact_text(text, secrets) if text else text


def _by_key(item: tuple[str, Any]) -> str:
    return item[0]


def _existing_keys(connection: Connection, table: Table, column_name: str, keys: Iterable[str]) -> set[str]:
    column = table.c[column_name]
    wanted = list(keys)
    found: set[str] = set()
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        found.update(connection.execute(select(column).where(column.in_(chunk))).scalars())
    return found


def _insert_ignoring_duplicates(connection: Connection, table: Table, rows: list[dict[str, Any]], key: str) -> None:
    # another proxy writing the same conversation may have inserted a row since we looked
    rows = [_storable(connection, row) for row in rows]
    dialect = connection.dialect.name
    if dialect == "sqlite":
        statement = sqlite_insert(table).on_conflict_do_nothing(index_elements=[key])
    elif dialect == "postgresql":
        statement = postgresql_insert(table).on_conflict_do_nothing(index_elements=[key])
    else:
        statement = insert(table)
    connection.execute(statement, rows)


def _storable(connection: Connection, row: dict[str, Any]) -> dict[str, Any]:
    """Make every text value one the database accepts, instead of losing the whole row.

    Bodies can carry lone UTF-16 surrogates (a JSON escape cut in half), which no UTF-8 database
    stores, and PostgreSQL refuses NUL characters in text; both become U+FFFD.
    """
    refuses_nul = connection.dialect.name == "postgresql"
    for name, value in row.items():
        if isinstance(value, str):
            row[name] = _storable_text(value, refuses_nul)
    return row


def _storable_text(text: str, refuses_nul: bool) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if refuses_nul and "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return text
