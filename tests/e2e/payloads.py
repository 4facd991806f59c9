"""Conversations the e2e tests send, and the bytes a provider should receive for them.

The tool output carries ANSI colour codes, which the addon strips; the user's own message carries
some too, which must arrive untouched (only tool outputs are ever rewritten).
"""

from __future__ import annotations

import json
import re
from typing import Any

TOOL_TEXT = (
    "\x1b[1m============ test session starts ============\x1b[0m\n"
    "tests/test_parser.py \x1b[32m.\x1b[0m\x1b[31mF\x1b[0m\n"
    "\x1b[31mFAILED\x1b[0m tests/test_parser.py::test_empty - AssertionError: got None\n"
    "\x1b[31m======= 1 failed, 1 passed in 0.12s =======\x1b[0m\n"
)
USER_TEXT = "Run the tests and fix what fails. My prompt shows \x1b[33mwarnings\x1b[0m in yellow."
COMMAND = {"command": "pytest -q tests/test_parser.py"}

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


_RETRIEVE_SCHEMA = {"type": "object", "properties": {"ref": {"type": "string"}, "offset": {"type": "integer"},
                                                   "limit": {"type": "integer"}}, "required": ["ref"]}
# The retrieve tool as each client declares it once `headroom mcp` is registered: the proxy
# compresses lossily (ANSI noise, elided log lines) only in requests that declare it.
ANTHROPIC_RETRIEVE = [{"name": "mcp__headroom__headroom_retrieve", "description": "Read an original.",
                       "input_schema": _RETRIEVE_SCHEMA}]
OPENAI_CHAT_RETRIEVE = [{"type": "function", "function": {"name": "mcp__headroom__headroom_retrieve",
                                                          "parameters": _RETRIEVE_SCHEMA}}]
RESPONSES_RETRIEVE = [{"type": "function", "name": "mcp__headroom__headroom_retrieve", "parameters": _RETRIEVE_SCHEMA}]
GEMINI_RETRIEVE = [{"functionDeclarations": [{"name": "headroom_retrieve", "parameters": _RETRIEVE_SCHEMA}]}]


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def json_string_body(text: str) -> bytes:
    """``text`` as it appears between the quotes of a JSON string (what an SDK sends)."""
    return json.dumps(text)[1:-1].encode()


def with_tool_output_rewritten(original: bytes, before: str = TOOL_TEXT, after: str | None = None) -> bytes:
    """``original`` with only the tool output's JSON string changed: what upstream should get."""
    after = strip_ansi(before) if after is None else after
    needle = json_string_body(before)
    assert original.count(needle) == 1, "the test body should carry the tool output exactly once"
    return original.replace(needle, json_string_body(after))


def anthropic_messages(tool_text: str = TOOL_TEXT) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": USER_TEXT},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Running the tests."},
            {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": COMMAND},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": tool_text},
        ]},
    ]


def openai_chat_messages(tool_text: str = TOOL_TEXT) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": USER_TEXT},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_01", "type": "function",
             "function": {"name": "shell", "arguments": json.dumps(COMMAND)}},
        ]},
        {"role": "tool", "tool_call_id": "call_01", "content": tool_text},
    ]


def responses_input(tool_text: str = TOOL_TEXT) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": USER_TEXT},
        {"type": "function_call", "call_id": "call_01", "name": "shell", "arguments": json.dumps(COMMAND)},
        {"type": "function_call_output", "call_id": "call_01", "output": tool_text},
    ]


def gemini_contents(tool_text: str = TOOL_TEXT) -> list[dict[str, Any]]:
    return [
        {"role": "user", "parts": [{"text": USER_TEXT}]},
        {"role": "model", "parts": [{"functionCall": {"name": "run_shell", "args": COMMAND}}]},
        {"role": "user", "parts": [
            {"functionResponse": {"name": "run_shell", "response": {"output": tool_text}}},
        ]},
    ]


def compact_json(payload: Any) -> bytes:
    """How Codex and the SDKs serialise: no spaces, non-ASCII kept."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# --------------------------------------------------------------------------------------------
# A Claude Code-style session whose tool outputs the shipped rules compress


READ_PATH = "/home/dev/project/src/inventory/service.py"


def python_source(lines: int = 200) -> str:
    """Plausible Python source of about ``lines`` lines (a file an agent would Read)."""
    out = ['"""Inventory service: reservations, restocks and the audit trail."""', "",
           "from __future__ import annotations", "", "import logging",
           "from dataclasses import dataclass", "", "logger = logging.getLogger(__name__)", ""]
    index = 0
    while len(out) < lines:
        index += 1
        out += [
            "",
            "@dataclass",
            f"class Item{index}:",
            f'    """Stock of product family {index}."""',
            "",
            "    sku: str",
            "    quantity: int = 0",
            "",
            f"    def reserve_{index}(self, amount: int) -> bool:",
            "        if amount <= 0:",
            f'            raise ValueError(f"amount must be positive, got {{amount}}")',
            "        if self.quantity < amount:",
            f'            logger.info("family {index}: %s short by %d", self.sku, amount - self.quantity)',
            "            return False",
            "        self.quantity -= amount",
            "        return True",
        ]
    return "\n".join(out[:lines]) + "\n"


def claude_code_read(source: str) -> str:
    """``source`` as Claude Code's Read tool returns it: ``     1→line`` per line."""
    return "\n".join(f"{number:>6}→{line}" for number, line in enumerate(source.split("\n")[:-1], start=1))


LOG_ERROR_LINES = (
    "ERROR tests/test_reserve.py::test_negative_amount - ValueError: amount must be positive, got -1",
    "FAILED tests/test_restock.py::test_restock_overflow - AssertionError: assert 1001 == 1000",
    "error[E0308]: mismatched types in build step codegen (exit code 2)",
)


def build_log(repeats: int = 120) -> str:
    """A build and test run: many near-identical progress lines with a few errors among them."""
    lines = ["$ make test", *["    Updating crates.io index"] * 40,
             "============================= test session starts =============================="]
    for index in range(repeats):
        lines.append(f"[{index:04d}] Compiling inventory-module-{index % 7} v0.{index}.0 (build cache hit)")
        lines.append("    Downloading registry index ... done")
        if index == repeats // 3:
            lines.append(LOG_ERROR_LINES[0])
        if index == repeats // 2:
            lines.append(LOG_ERROR_LINES[1])
        if index == 2 * repeats // 3:
            lines.append(LOG_ERROR_LINES[2])
    lines.append("========================= 2 failed, 318 passed in 41.07s =========================")
    return "\n".join(lines)


def api_records(count: int = 50) -> str:
    """What an API tool returns: a JSON array of uniform records."""
    records = [
        {"id": 1000 + i, "sku": f"SKU-{i:05d}", "name": f"Widget model {i}", "warehouse": ["north", "south", "east"][i % 3],
         "quantity": (i * 37) % 500, "reserved": (i * 11) % 40, "active": i % 9 != 0,
         "updated_at": f"2025-06-{1 + i % 28:02d}T10:{i % 60:02d}:00Z"}
        for i in range(count)
    ]
    return json.dumps(records, indent=2)


SESSION_USER_TEXT = "The reserve tests fail. Read the service, run the build and check the stock API."


def claude_code_session(read_text: str, log_text: str, json_text: str) -> list[dict[str, Any]]:
    """Three tool turns as Claude Code sends them: Read, Bash, an MCP API tool."""
    return [
        {"role": "user", "content": [{"type": "text", "text": SESSION_USER_TEXT}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Let me read the service first."},
            {"type": "tool_use", "id": "toolu_01Read", "name": "Read", "input": {"file_path": READ_PATH}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01Read", "content": read_text},
        ]},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_02Bash", "name": "Bash",
             "input": {"command": "make test", "description": "Build and run the tests"}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_02Bash", "content": log_text},
        ]},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_03Stock", "name": "mcp__inventory__list_stock",
             "input": {"warehouse": "all", "limit": 50}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_03Stock",
             "content": [{"type": "text", "text": json_text}]},
        ]},
    ]


def varied_log(lines: int = 3000) -> str:
    """A long service log whose lines differ in shape, so only eliding can shorten it."""
    words = ("cache", "router", "worker", "scheduler", "gateway", "indexer", "billing", "session")
    verbs = ("accepted", "queued", "merged", "rotated", "flushed", "resolved", "picked up", "handed off")
    out = []
    for i in range(lines):
        noun, verb = words[i % len(words)], verbs[(i * 3) % len(verbs)]
        out.append(f"2025-06-01T10:{(i // 60) % 60:02d}:{i % 60:02d}Z {noun}-{i % 5} {verb} batch "
                   f"{'x' * (i % 4)}{i} for tenant {chr(97 + i % 26)}{'-eu' if i % 2 else ''}")
        if i == 1500:
            out.append("2025-06-01T10:25:00Z billing-0 ERROR invoice 88121 could not be rendered: timeout")
    return "\n".join(out)


def json_string_forms(text: str) -> tuple[bytes, bytes]:
    """``text`` between JSON quotes, escaped as ASCII and as UTF-8 (clients differ)."""
    return json_string_body(text), json.dumps(text, ensure_ascii=False)[1:-1].encode()


def with_tool_outputs_replaced(original: bytes, replacements: list[tuple[str, str]]) -> bytes:
    """``original`` with each tool output's JSON string swapped for what arrived, same escaping."""
    result = original
    for before, after in replacements:
        for needle, replacement in zip(json_string_forms(before), json_string_forms(after)):
            if result.count(needle) == 1:
                result = result.replace(needle, replacement)
                break
        else:
            raise AssertionError("the body should carry each tool output exactly once")
    return result
