"""The flow log's tables as the first migrated version has them, frozen.

Revision ``r0001`` creates exactly these; a log made before migrations existed is brought to this
shape (tables, columns and indexes it lacks are added, nothing is dropped) and then stamped with
``r0001``. Never edit this file to change the schema: add a revision (see ``migrations``).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = ["BASELINE", "BASELINE_SCHEMA_VERSION"]

# What ``meta.schema_version`` said before migrations; kept so older proxies still read it.
BASELINE_SCHEMA_VERSION = 1

BASELINE = MetaData()

Table(
    "flows",
    BASELINE,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("host", String, nullable=False),
    Column("path", Text, nullable=False),
    Column("method", String, nullable=False),
    Column("provider", String, nullable=False),
    Column("model", String, nullable=False),
    Column("transport", String, nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Float),
    Column("request_bytes_before", Integer),
    Column("request_bytes_after", Integer),
    Column("tokens_before", Integer),
    Column("tokens_after", Integer),
    Column("usage_input", Integer),
    Column("usage_output", Integer),
    Column("usage_cache_read", Integer),
    Column("usage_cache_write", Integer),
    Column("stop_reason", String),
    Column("mode", String, nullable=False),
    Column("session_id", String),
    Column("project", Text),
    Column("error", Text),
    Column("tool_outputs", Integer, nullable=False),
    Column("tool_outputs_rewritten", Integer, nullable=False),
    Index("ix_flows_started_at", "started_at"),
    Index("ix_flows_provider_model_started", "provider", "model", "started_at"),
    Index("ix_flows_session_id", "session_id"),
)

Table(
    "meta",
    BASELINE,
    Column("key", String, primary_key=True),
    Column("value", Text, nullable=False),
)

Table(
    "originals",
    BASELINE,
    Column("hash", String(64), primary_key=True),
    Column("content", Text, nullable=False),
    Column("flow_id", Integer, ForeignKey("flows.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

Table(
    "tool_calls",
    BASELINE,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("session_id", String, nullable=False),
    Column("project", Text),
    Column("call_id", String, nullable=False),
    Column("tool", String, nullable=False),
    Column("arguments", Text),
    Column("output", Text, nullable=False),
    Column("is_error", Boolean, nullable=False),
    Column("exit_code", Integer),
    Column("provider", String, nullable=False),
    Column("flow_id", Integer, ForeignKey("flows.id")),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("position", Integer, nullable=False),
    Column("source", String, nullable=False),
    Index("ix_tool_calls_session_position", "session_id", "position"),
    Index("ix_tool_calls_session_seen_position", "session_id", "seen_at", "position"),
    Index("ix_tool_calls_flow_id", "flow_id"),
)
