"""The way back for the model: what a marker's ``#ref`` stands for, through ``headroom_retrieve``.

Lossy compression drops text and keeps it in the flow log under a ref. That is only fair to the
model when it can get the text back: ``headroom mcp`` serves the tool ``headroom_retrieve(ref,
offset, limit)``, and the proxy compresses lossily only the requests whose own tool list holds
that tool. Every other request (a subagent without the tool, a cron job, an agent with no MCP)
gets only lossless renderings and references to text the same request still shows.

Why this is cache-safe: a request's tool list comes before its conversation in every provider's
prompt cache (Anthropic caches tools, then system, then messages; OpenAI and Gemini put tool
definitions ahead of the turns). The list only changes where the cached prefix is lost anyway,
so switching between lossy and lossless there costs no extra cache miss; between such changes
the decision, like everything else about an output, is the same in every request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from headroom_mitm.rules.registry import RETRIEVE_TOOL, is_retrieve_tool

__all__ = ["RETRIEVE_TOOL", "is_retrieve_tool", "tool_names", "announced_at", "Page", "page"]

_TOOL_LISTS = ("tools", "functionDeclarations", "function_declarations")
_DEFERRED = re.compile(r"load tool schemas before calling them:\s*([^\n\"<]+)")
"""Claude Code's note naming the tools it defers behind ToolSearch (MCP tools, by default): the
model loads one by name and calls it, so a tool named there is one the model has."""
_DEFERRED_NAMESPACES = re.compile(r"Deferred tool namespaces:[ \t]*\n((?:[ \t]*- [^\n]+(?:\n|$))+)")
"""Codex's developer message, once an MCP server has started, naming the namespaces of the tools
it defers (``- mcp__headroom``): it names servers, not tools, so the namespace of the server
``headroom setup`` registers stands for its one tool."""
RETRIEVE_NAMESPACE = "mcp__headroom"
DEFAULT_LIMIT = 16_000
MAX_LIMIT = 100_000


def tool_names(definitions: Iterable[Any]) -> Iterator[str]:
    """The names of the tools in a body's tool definitions, nested ones included (Codex's
    namespaces, Gemini's ``functionDeclarations``, OpenAI's ``function`` objects)."""
    stack = list(definitions)
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if isinstance(item.get("name"), str):
                yield item["name"]
            if isinstance(item.get("function"), dict):
                stack.append(item["function"])
            stack.extend(item[key] for key in _TOOL_LISTS if isinstance(item.get(key), list))


def announced_at(messages: Iterable[Any]) -> int | None:
    """The turn of the first message (``addon.framing.Message``) that names the retrieve tool
    (or, for Codex, its server's namespace) among what the client defers; None when none does."""
    for message in messages:
        for _, text in message.texts:
            if any(any(is_retrieve_tool(name) for name in listed[1].split()) for listed in _DEFERRED.finditer(text)):
                return message.turn
            for listed in _DEFERRED_NAMESPACES.finditer(text):
                if RETRIEVE_NAMESPACE in (line.strip().removeprefix("- ").strip() for line in listed[1].splitlines()):
                    return message.turn
    return None


@dataclass(frozen=True)
class Page:
    text: str
    start: int
    end: int
    total: int

    def render(self) -> str:
        """The text, and when it is not all of it, one marker line saying how to read on."""
        if self.start == 0 and self.end == self.total:
            return self.text
        more = f"; call {RETRIEVE_TOOL} again with offset {self.end} for the rest" if self.end < self.total else ""
        from headroom_mitm.addon.compress.markers import marker

        note = marker("retrieved", f"characters {self.start}-{self.end} of {self.total}{more}")
        return f"{self.text}\n{note}"


def page(content: str, offset: int = 0, limit: int = DEFAULT_LIMIT) -> Page:
    """Characters ``offset`` to ``offset + limit`` of an original (``limit`` capped at
    ``MAX_LIMIT``, so one answer never floods the model's context)."""
    if offset < 0:
        raise ValueError(f"offset must be 0 or more, got {offset}")
    if limit <= 0:
        raise ValueError(f"limit must be more than 0, got {limit}")
    start = min(offset, len(content))
    end = min(len(content), start + min(limit, MAX_LIMIT))
    return Page(content[start:end], start, end, len(content))
