"""The flow log: every provider call, each distinct tool call once, and kept originals.

``FlowLog`` is what the proxy uses (non-blocking, written by a thread); ``write_tool_calls`` is what
transcript imports use inside their own transaction. Both dedupe by ``tool_call_fingerprint``.
The schema is versioned with Alembic: ``schema.ensure_schema`` upgrades a log, and
``migrations`` (its docstring) says how to add a column.
"""

from headroom_mitm.addon.store.engine import make_engine
from headroom_mitm.addon.store.entries import FlowEntry, ToolCallEntry, tool_call_fingerprint
from headroom_mitm.addon.store.exit_codes import exit_code_of
from headroom_mitm.addon.store.models import Flow, Meta, Original, ToolCall
from headroom_mitm.addon.store.errors import FlowLogError, SchemaTooNew
from headroom_mitm.addon.store.persist import ToolCallsWritten, write_flow, write_flows, write_originals, write_tool_calls
from headroom_mitm.addon.store.schema import ensure_schema
from headroom_mitm.addon.store.target import default_db_path, describe_target, resolve_target
from headroom_mitm.addon.store.writer import FlowLog

__all__ = [
    "Flow",
    "FlowEntry",
    "FlowLog",
    "FlowLogError",
    "Meta",
    "Original",
    "SchemaTooNew",
    "ToolCall",
    "ToolCallEntry",
    "ToolCallsWritten",
    "default_db_path",
    "describe_target",
    "ensure_schema",
    "exit_code_of",
    "make_engine",
    "resolve_target",
    "tool_call_fingerprint",
    "write_flow",
    "write_flows",
    "write_originals",
    "write_tool_calls",
]
