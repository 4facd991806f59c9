"""Registering ``headroom mcp`` with Claude Code and Codex, so their requests declare the retrieve
tool (the proxy compresses lossily only then: only then can the model follow a ``#ref`` back).

Claude Code keeps its user-scope MCP servers in the top-level ``mcpServers`` of ``~/.claude.json``
(``$CLAUDE_CONFIG_DIR/.claude.json`` when that is set), where ``claude mcp add --scope user``
writes them; the file is edited as data, the rest of it kept byte for byte. Codex reads
``[mcp_servers.NAME]`` tables from ``$CODEX_HOME/config.toml``: ours is a managed block.

A server called ``headroom`` that is not ``headroom mcp`` is the user's own: it is kept, and the
user told that retrieval is not registered.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from headroom_mitm.addon.cli.mcp import SERVER_NAME, Registration
from headroom_mitm.addon.setup import blocks
from headroom_mitm.addon.setup.changes import FileEdit, Problem
from headroom_mitm.addon.setup.jsonedit import JsonEditError, set_members

__all__ = ["claude_code_config", "mcp_db", "plan_claude_code_mcp", "plan_codex_mcp", "Planned"]

CLAUDE_CONTAINER = "mcpServers"
WHAT = "headroom mcp as the MCP server headroom"
WHY = "so the model can read back what a marker left out, and the proxy may compress lossily"
_TOML_WHERE = re.compile(r"\s*\(at line (\d+), column \d+\)$")

Planned = Union[list[FileEdit], Problem, str]
"""The edits; a problem that stops setup (a malformed file); or a note saying what was not done."""


def claude_code_config(home: Path, environ: Mapping[str, str]) -> Path:
    folder = environ.get("CLAUDE_CONFIG_DIR")
    return Path(folder) / ".claude.json" if folder else home / ".claude.json"


def plan_claude_code_mcp(config: Path, shown: str, registration: Registration) -> Planned:
    entry = registration.claude_code()
    raw = config.read_text() if config.exists() else "{}\n"
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        return _json_problem(shown, exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})")
    servers = document.get(CLAUDE_CONTAINER) if isinstance(document, dict) else None
    existing = servers.get(registration.name) if isinstance(servers, dict) else None
    if existing is not None and existing != entry and not _is_headroom_mcp(existing):
        return _kept(shown, f'"{CLAUDE_CONTAINER}"', registration)
    try:
        edited = set_members(raw, CLAUDE_CONTAINER, {registration.name: entry})
    except JsonEditError as exc:
        return _json_problem(shown, exc.line, str(exc))
    return [FileEdit(config, edited.encode(), WHAT, WHY, kind="json-members", container=CLAUDE_CONTAINER,
                     ours={registration.name: entry})]


def plan_codex_mcp(config: Path, shown: str, registration: Registration) -> Planned:
    text = config.read_text() if config.exists() else ""
    theirs = blocks.without_block(text)
    try:
        document = tomllib.loads(theirs)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = _TOML_WHERE.search(message)
        line = int(where[1]) if where else theirs.count("\n") + 1
        return Problem(f"{shown}:{line}", f"not valid TOML: {message[:where.start()] if where else message}: "
                       "fix it, then run headroom setup again (nothing was changed)")
    servers = document.get("mcp_servers")
    existing = servers.get(registration.name) if isinstance(servers, dict) else None
    if existing is not None:  # the user's own table (``codex mcp add``): a second one is invalid TOML
        return [] if _is_headroom_mcp(existing) else _kept(shown, "[mcp_servers]", registration)
    edited = blocks.with_block(text, registration.codex_toml())
    try:
        registered = tomllib.loads(edited)["mcp_servers"][registration.name]
    except (tomllib.TOMLDecodeError, KeyError, TypeError):
        registered = None
    if not isinstance(registered, dict) or registered.get("command") != registration.command:
        return (f"{shown}: its mcp_servers cannot take another table (written inline?): add this yourself "
                f"to register headroom mcp:\n{registration.codex_toml()}")
    return [FileEdit(config, edited.encode(), WHAT, WHY, kind="block")]


def _is_headroom_mcp(entry: Any) -> bool:
    """Whether a server entry starts ``headroom mcp`` (any installation's, with any flow log)."""
    if not isinstance(entry, dict):
        return False
    args = entry.get("args")
    return (Path(str(entry.get("command", ""))).name == SERVER_NAME and isinstance(args, list)
            and args[:1] == ["mcp"])


def _kept(shown: str, where: str, registration: Registration) -> str:
    return (f"{shown} already has an MCP server called {registration.name} in {where} that is not headroom mcp: "
            f"kept it, so the model cannot retrieve and compression stays lossless; rename yours to register ours")


def _json_problem(shown: str, line: int, message: str) -> Problem:
    return Problem(f"{shown}:{line}", f"{message}: fix it, then run headroom setup again (nothing was changed)")


def mcp_db(flow_log: str) -> tuple[Optional[str], tuple[str, ...]]:
    """The ``--db`` to pin in the registration, and the variables to pass through instead: a
    database URL that holds a password stays out of the agents' config files (``headroom mcp``
    then reads ``$HEADROOM_DB``, which Codex passes to a server only when told to)."""
    from headroom_mitm.addon.store.target import ENV_VARIABLE, mask_credentials

    if mask_credentials(flow_log) != flow_log:
        return None, (ENV_VARIABLE,)
    return flow_log, ()
