"""Reading each agent's transcripts into tool calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from headroom_mitm.learn.importers import TranscriptError, detect_agent, find_transcripts, iter_transcripts
from headroom_mitm.learn.importers import claude_code, codex, mini_swe_agent, swe_agent
from learn_helpers import require_traces


def test_claude_code_transcript_and_its_subagents():
    session = require_traces("claude-code", "8463c716-a2ea-4c14-9efa-87158ebd9f20.jsonl")
    calls = list(claude_code.read(session))
    assert len(calls) == 177
    assert {call.session_id for call in calls} == {"8463c716-a2ea-4c14-9efa-87158ebd9f20"}
    push = [call for call in calls if call.tool == "Bash" and call.arguments["command"].startswith("git push")]
    assert push[0].is_error and "no upstream branch" in push[0].output
    assert all(call.call_id.startswith("toolu_") for call in calls)
    assert push[0].project.endswith("spotter-fum")
    subagent = session.with_suffix("") / "subagents" / "agent-a7be2f0.jsonl"
    sub_calls = list(claude_code.read(subagent))
    assert sub_calls and {call.session_id for call in sub_calls} == {"8463c716-a2ea-4c14-9efa-87158ebd9f20"}


def test_directories_are_searched_recursively_including_subagent_files():
    root = require_traces("claude-code")
    files = [path for agent, path in find_transcripts([root])]
    assert any("subagents" in path.parts for path in files)
    assert all(agent == "claude-code" for agent, _ in find_transcripts([root]))


def test_mini_swe_agent_commands_and_return_codes():
    trajectory = require_traces("mini-swe-agent", "sympy__sympy-18763.traj.json")
    calls = list(mini_swe_agent.read(trajectory))
    missing = [call for call in calls if call.exit_code == 127]
    assert missing and missing[0].arguments["command"].startswith("pytest")
    assert {call.project for call in calls} == {"sympy/sympy"}  # the repository, not the shared /testbed
    assert [call.position for call in calls] == list(range(len(calls)))


def test_swe_agent_rejected_edits_are_errors():
    trajectory = require_traces("swe-agent", "pydicom__pydicom-1458.traj")
    calls = list(swe_agent.read(trajectory))
    edits = [call for call in calls if call.tool == "edit"]
    assert [call.is_error for call in edits] == [False, True, True, True, False]
    assert calls[0].project == "/pydicom__pydicom"


def _codex_rollout(path: Path) -> Path:
    lines = [
        {"timestamp": "2026-01-02T10:00:00Z", "type": "session_meta", "payload": {"id": "019a-codex", "cwd": "/work/app"}},
        {"timestamp": "2026-01-02T10:00:01Z", "type": "response_item", "payload": {
            "type": "function_call", "name": "shell", "call_id": "call_1",
            "arguments": json.dumps({"command": ["bash", "-lc", "pytest -q"], "workdir": "/work/app"})}},
        {"timestamp": "2026-01-02T10:00:02Z", "type": "response_item", "payload": {
            "type": "function_call_output", "call_id": "call_1",
            "output": json.dumps({"output": "bash: pytest: command not found\n", "metadata": {"exit_code": 127, "duration_seconds": 0.1}})}},
        {"timestamp": "2026-01-02T10:00:03Z", "type": "response_item", "payload": {
            "type": "function_call", "name": "exec_command", "call_id": "call_2",
            "arguments": json.dumps({"cmd": "python -m pytest -q"})}},
        {"timestamp": "2026-01-02T10:00:04Z", "type": "response_item", "payload": {
            "type": "function_call_output", "call_id": "call_2",
            "output": "Process exited with code 0\nOutput:\n3 passed in 0.2s\n"}},
        {"timestamp": "2026-01-02T10:00:05Z", "type": "response_item", "payload": {
            "type": "custom_tool_call", "name": "apply_patch", "call_id": "call_3", "input": "*** Begin Patch"}},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"truncated": ')
    return path


def test_codex_rollout_both_output_shapes(tmp_path):
    rollout = _codex_rollout(tmp_path / "rollout-2026-01-02T10-00-00-019a.jsonl")
    assert detect_agent(rollout) == "codex"
    calls = list(codex.read(rollout))
    assert [call.tool for call in calls] == ["shell", "exec_command"]  # call_3 has no output yet
    assert calls[0].exit_code == 127 and calls[0].is_error
    assert calls[0].session_id == "019a-codex" and calls[0].project == "/work/app"
    assert calls[1].arguments == {"cmd": "python -m pytest -q"}


def test_a_file_that_is_no_transcript_is_a_clear_error(tmp_path):
    stray = tmp_path / "notes.txt"
    stray.write_text("hello")
    with pytest.raises(TranscriptError, match="not a Claude Code, Codex"):
        list(find_transcripts([stray]))
    with pytest.raises(TranscriptError, match="no such file"):
        list(find_transcripts([tmp_path / "missing"]))


def test_a_broken_trajectory_is_skipped_and_the_rest_still_read(tmp_path, caplog):
    (tmp_path / "broken.traj.json").write_text("{not json")
    good = require_traces("mini-swe-agent", "django__django-11099.traj.json")
    (tmp_path / good.name).write_bytes(good.read_bytes())
    read = list(iter_transcripts([tmp_path]))
    assert [path.name for _, path, _ in read] == [good.name]
    assert "broken.traj.json" in caplog.text
