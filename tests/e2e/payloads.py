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
