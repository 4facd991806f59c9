"""``headroom mcp``: a stdio MCP server whose one tool gives the model back what a marker dropped.

Register it with the agent (``headroom setup`` does, through ``registration()``), and every
request the agent sends declares ``headroom_retrieve``: only then does the proxy compress
lossily, since only then can the model follow a ``#ref`` to the original in the flow log.
Originals are kept for good, so a ref never expires.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headroom_mitm.addon.retrieval import DEFAULT_LIMIT, MAX_LIMIT, RETRIEVE_TOOL, page
from headroom_mitm.addon.cli.flow_log import DB_HELP
from headroom_mitm.addon.store.engine import describe_target, is_url, make_engine
from headroom_mitm.addon.store.target import TargetError, resolve_target

__all__ = ["register", "run", "registration", "Registration", "retrieve", "RetrieveError"]

SERVER_NAME = "headroom"
_REF = re.compile(r"#?([0-9a-f]{12,64})")
_DESCRIPTION = (
    "Read the original text behind a Headroom marker. Tool outputs in this conversation may hold "
    "markers like [headroom: log 1180 lines elided #3fa9c01b22de]: the part they stand for was left "
    "out to save context and is kept in full. Call this with the marker's #ref (the 12 hex digits) "
    "whenever you need what was left out. Long originals come in pages: pass the offset the answer "
    "names to read on."
)

_EXAMPLE = """\
example:
  headroom mcp                               # serve the flow log at ~/.headroom/flows.db over stdio
  claude mcp add --scope user headroom -- headroom mcp   # what `headroom setup` registers for Claude Code
"""


class RetrieveError(ValueError):
    """A ref that is malformed, unknown, or ambiguous; the message says which."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "mcp",
        help="serve headroom_retrieve over stdio (MCP), so the model can read what markers dropped",
        description="A Model Context Protocol server on stdin/stdout with one tool, "
        f"{RETRIEVE_TOOL}(ref, offset, limit), reading originals from the flow log.",
        epilog=_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", default=None, help=DB_HELP)
    parser.set_defaults(func=run)


# The proxy writes the flow log on a thread of its own once the response that carried a ref has
# reached the agent: a model that asks for it at once can be a few milliseconds ahead of the write.
ARRIVAL_WAIT_S = 3.0


def retrieve(db: str, ref: str, offset: int = 0, limit: int = DEFAULT_LIMIT, wait_s: float = ARRIVAL_WAIT_S) -> str:
    """The page of the original under ``ref`` the model asked for (waiting up to ``wait_s`` for
    one that is not in the log yet)."""
    match = _REF.fullmatch(ref.strip().lower())
    if not match:
        raise RetrieveError(f"{ref!r} is not a ref: give the 12 hex digits after the marker's #")
    if not is_url(db) and not Path(db).expanduser().is_file():
        raise RetrieveError(f"no flow log at {describe_target(db)}")
    found = _originals(db, match.group(1), time.monotonic() + wait_s)
    if not found:
        raise RetrieveError(f"nothing is kept under #{match.group(1)} in {describe_target(db)}")
    if len(found) > 1:
        raise RetrieveError(f"#{match.group(1)} matches more than one original: give more digits")
    try:
        return page(found[0], offset, limit).render()
    except ValueError as exc:
        raise RetrieveError(str(exc)) from exc


def _originals(db: str, ref: str, deadline: float) -> list[str]:
    from headroom_mitm.addon.store.errors import short_reason
    from headroom_mitm.addon.store.queries import originals_by_ref

    try:
        engine = make_engine(db)
        try:
            while True:
                with engine.connect() as connection:
                    found = originals_by_ref(connection, ref)
                if found or time.monotonic() >= deadline:
                    return found
                time.sleep(0.1)
        finally:
            engine.dispose()
    except TargetError as exc:
        raise RetrieveError(str(exc)) from None
    except Exception as exc:  # the database is down or not a flow log: said to the model in one line
        raise RetrieveError(f"cannot use {describe_target(db)}: {short_reason(exc, db)}") from None


def build_server(db: str) -> Any:
    from mcp.server.fastmcp import FastMCP

    server = FastMCP(SERVER_NAME)

    # plain text, not {"result": ...}: the model is to read the original as it was
    @server.tool(name=RETRIEVE_TOOL, description=_DESCRIPTION, structured_output=False)
    def headroom_retrieve(ref: str, offset: int = 0, limit: int = DEFAULT_LIMIT) -> str:
        """ref: the marker's #ref. offset: first character to return. limit: most characters
        to return (at most 100000)."""
        return retrieve(db, ref, offset, min(limit, MAX_LIMIT))

    return server


def run(args: argparse.Namespace) -> int:
    try:
        db = resolve_target(args.db)
    except TargetError as exc:
        print(f"headroom mcp: {exc}", file=sys.stderr)
        return 1
    build_server(db).run("stdio")
    return 0


@dataclass(frozen=True)
class Registration:
    """How an agent starts ``headroom mcp``: what ``headroom setup`` writes into its config."""

    command: str
    args: tuple[str, ...] = ("mcp",)
    env: dict[str, str] = field(default_factory=dict)
    env_vars: tuple[str, ...] = ()
    """Variables Codex passes to the server from its own environment (it passes only a few by
    default): ``HEADROOM_DB`` when the flow log's URL holds a password kept out of the config."""
    name: str = SERVER_NAME

    def claude_code(self) -> dict[str, Any]:
        """The server entry for Claude Code (``claude mcp add-json NAME JSON``, or an
        ``mcpServers`` entry of ``.mcp.json``); its tool is then ``mcp__headroom__headroom_retrieve``."""
        entry: dict[str, Any] = {"type": "stdio", "command": self.command, "args": list(self.args)}
        if self.env:
            entry["env"] = dict(self.env)
        return entry

    def codex_toml(self) -> str:
        """The ``[mcp_servers.headroom]`` table for Codex's ``~/.codex/config.toml``."""
        lines = [f"[mcp_servers.{self.name}]", f"command = {_toml_string(self.command)}",
                 "args = [" + ", ".join(_toml_string(arg) for arg in self.args) + "]"]
        if self.env:
            lines.append("env = { " + ", ".join(f"{_toml_string(k)} = {_toml_string(v)}" for k, v in self.env.items()) + " }")
        if self.env_vars:
            lines.append("env_vars = [" + ", ".join(_toml_string(name) for name in self.env_vars) + "]")
        return "\n".join(lines) + "\n"


def registration(db: str | None = None, command: str | None = None, env_vars: tuple[str, ...] = ()) -> Registration:
    """The registration for this installation: the ``headroom`` beside the running Python (or
    on PATH), and ``--db`` when given."""
    if command is None:
        beside = Path(sys.executable).with_name("headroom")
        command = str(beside) if beside.exists() else (shutil.which("headroom") or "headroom")
    args: tuple[str, ...] = ("mcp",) if db is None else ("mcp", "--db", db)
    return Registration(command=command, args=args, env_vars=env_vars)


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
