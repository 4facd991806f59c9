"""Which client sent a request, as ``headroom stats`` groups it: the first product of its User-Agent.

``claude-cli/2.1.197 (external, sdk-cli)`` is ``claude-cli/2.1.197``; Codex names itself in
``originator`` too (``codex_cli_rs``), which wins when the User-Agent says less.
"""

from __future__ import annotations

from typing import Mapping

_MAX_LENGTH = 64


def agent_of(headers: Mapping[str, str]) -> str | None:
    user_agent = (headers.get("user-agent") or "").strip()
    product = user_agent.split(" ", 1)[0] if user_agent else ""
    originator = (headers.get("originator") or "").strip()
    if originator and not product.startswith(originator):
        product = originator
    return product[:_MAX_LENGTH] or None


def agent_name(agent: str | None) -> str:
    """The agent without its version: what rows are grouped by."""
    return (agent or "unknown").split("/", 1)[0]
