"""Exit codes read from real agent outputs (../shared/data/traces)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from headroom_mitm.addon.store import exit_code_of
from shared_data import data_missing


def _mini_swe_outputs(traces_dir: Path) -> Iterator[str]:
    for path in sorted((traces_dir / "mini-swe-agent").glob("*.traj.json")):
        for message in json.loads(path.read_text())["messages"]:
            if message["role"] == "user" and isinstance(message["content"], str):
                yield message["content"]


def _claude_code_tool_results(traces_dir: Path) -> Iterator[tuple[str, bool]]:
    for path in sorted((traces_dir / "claude-code").rglob("*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            content = (record.get("message") or {}).get("content")
            if not isinstance(content, list):
                continue
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    text = block.get("content")
                    if isinstance(text, list):
                        text = "".join(part.get("text", "") for part in text if isinstance(part, dict))
                    if isinstance(text, str):
                        yield text, bool(block.get("is_error"))


def test_mini_swe_agent_return_codes_are_read(traces_dir: Path) -> None:
    outputs = [text for text in _mini_swe_outputs(traces_dir) if "<returncode>" in text]
    if not outputs:
        data_missing(f"no mini-swe-agent outputs under {traces_dir}")
    for text in outputs:
        stated = int(re.search(r"<returncode>(-?\d+)</returncode>", text).group(1))
        assert exit_code_of(text) == stated
    # the traces hold both successes and failures, so this reads more than a constant
    assert {exit_code_of(text) for text in outputs} >= {0, 1}


def test_claude_code_failed_commands_give_their_exit_code(traces_dir: Path) -> None:
    results = list(_claude_code_tool_results(traces_dir))
    failed_commands = [text for text, is_error in results if is_error and text.startswith("Exit code ")]
    if not failed_commands:
        data_missing(f"no failed Claude Code commands under {traces_dir}")
    for text in failed_commands:
        assert exit_code_of(text) == int(text.split()[2])
    assert {exit_code_of(text) for text in failed_commands} >= {1, 2}


def test_text_that_merely_mentions_an_exit_code_gives_none(traces_dir: Path) -> None:
    # Claude Code documentation read into a session talks about "Exit code 2" at length
    mentions = [
        text
        for text, _ in _claude_code_tool_results(traces_dir)
        if "Exit code 2" in text and not text.startswith("Exit code")
    ]
    if not mentions:
        data_missing(f"no output mentioning exit codes under {traces_dir}")
    assert [exit_code_of(text) for text in mentions] == [None] * len(mentions)


def test_claude_code_transcript_errors_with_prefix() -> None:
    assert exit_code_of("Error: Exit code 128\nfatal: The current branch has no upstream branch.") == 128


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        # Codex's shell tool: a header, then the output
        ("Exit code: 1\nWall time: 0.4 seconds\nOutput:\nerror: could not compile `app`", 1),
        ("Exit code: 0\nWall time: 0.1 seconds\nOutput:\nok", 0),
        # Codex unified exec
        ("Chunk ID: 3f2a\nWall time: 1.0 seconds\nProcess exited with code 127\nOutput:\nbash: rg: command not found", 127),
        # older Codex: JSON with metadata
        ('{"output":"Traceback ...","metadata":{"exit_code":2,"duration_seconds":0.3}}', 2),
        ('{"output":"x","metadata":{"exit_code":true}}', None),
        ('{"output": "not json', None),
        ("", None),
        ("all good\n", None),
        # a command that printed an exit code line deep in its own output
        ("line\n" * 200 + "Exit code: 3\n", None),
    ],
)
def test_codex_and_other_shapes(output: str, expected: int | None) -> None:
    assert exit_code_of(output) == expected
