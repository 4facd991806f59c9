"""Bodies rebuilt from the real traces: every tool result is found, named, and rewritable."""

from __future__ import annotations

import json
from pathlib import Path

from headroom_mitm.addon.providers import for_request
from trace_bodies import claude_code_requests, claude_code_trace_files, mini_swe_requests, mini_swe_trace_files

ANTHROPIC = for_request("api.anthropic.com", "/v1/messages")
OPENAI_CHAT = for_request("openrouter.ai", "/api/v1/chat/completions")


def transcript_tool_results(path: Path) -> tuple[dict[str, str], set[str]]:
    """From the raw transcript: tool name per tool_use id, and ids of results a later turn saw.

    A result reaches a request when a new response (a new message.id) follows it; one followed
    by compaction first went only to the summarising call.
    """
    names: dict[str, str] = {}
    seen_later: set[str] = set()
    pending: list[str] = []
    response_id = None
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("subtype") == "compact_boundary":
            pending = []
        content = (record.get("message") or {}).get("content")
        if record.get("type") == "assistant" and record["message"]["id"] != response_id:
            seen_later.update(pending)
            pending = []
            response_id = record["message"]["id"]
        for block in content if isinstance(content, list) else []:
            if block.get("type") == "tool_use":
                names[block["id"]] = block["name"]
            elif block.get("type") == "tool_result":
                pending.append(block["tool_use_id"])
    return names, seen_later


def test_claude_code_every_tool_result_is_extracted_with_its_tool_name(shared_data: Path) -> None:
    files = claude_code_trace_files()
    assert files
    for path in files:
        names, expected_ids = transcript_tool_results(path)
        seen: dict[str, set[str]] = {}
        for body in claude_code_requests(path):
            for output in ANTHROPIC.extract(body):
                seen.setdefault(output.call_id, set()).add(output.tool_name)
        assert set(seen) == expected_ids, path.name
        for call_id, tool_names in seen.items():
            assert tool_names == {names[call_id]}, (path.name, call_id)


def test_claude_code_bodies_have_the_shape_the_api_requires(shared_data: Path) -> None:
    for path in claude_code_trace_files():
        for body in claude_code_requests(path):
            messages = body["messages"]
            assert messages[-1]["role"] == "user"
            roles = [m["role"] for m in messages]
            assert all(a != b for a, b in zip(roles, roles[1:])), "roles must alternate"
            for before, after in zip(messages, messages[1:]):
                uses = {b["id"] for b in before["content"] if b.get("type") == "tool_use"}
                answered = {b["tool_use_id"] for b in after["content"] if b.get("type") == "tool_result"}
                assert answered <= uses or before["role"] == "user"
            assert ANTHROPIC.session_hint(body)
            assert ANTHROPIC.working_directory(body)


def test_claude_code_is_error_flags_survive(shared_data: Path) -> None:
    errors = [o for path in claude_code_trace_files() for body in claude_code_requests(path)
              for o in ANTHROPIC.extract(body) if o.is_error]
    assert errors


def test_claude_code_without_thinking(shared_data: Path) -> None:
    path = max(claude_code_trace_files(), key=lambda p: p.stat().st_size)
    kinds = {b.get("type") for body in claude_code_requests(path, keep_thinking=False)
             for m in body["messages"] for b in m["content"]}
    assert "thinking" not in kinds


def test_mini_swe_bash_calls_and_outputs(shared_data: Path) -> None:
    files = mini_swe_trace_files()
    assert files
    for path in files[:25]:
        trajectory = json.loads(path.read_text(encoding="utf-8"))
        bodies = list(mini_swe_requests(path))
        assert len(bodies) == sum(1 for m in trajectory["messages"] if m["role"] == "assistant")
        outputs = OPENAI_CHAT.extract(bodies[-1])
        returncodes = [m for m in trajectory["messages"][:-1] if m["role"] == "user"
                       and m["content"].startswith("<returncode>")]
        assert len([o for o in outputs if o.text.startswith("<returncode>")]) >= len(returncodes) - 1
        for output in outputs:
            assert output.tool_name == "bash"
            assert isinstance(output.arguments, dict) and output.arguments["command"]
            reply = bodies[-1]["messages"][output.turn - 1]
            assert reply["tool_calls"][0]["id"] == output.call_id
            assert "```bash" not in reply["content"]  # the command is sent once, as the call
            assert f"```bash\n{output.arguments['command']}\n```" in next(
                m["content"] for m in trajectory["messages"][output.turn - 1:] if m["role"] == "assistant")


def test_splice_identity_and_single_change_on_real_bodies(shared_data: Path) -> None:
    path = max(claude_code_trace_files(), key=lambda p: p.stat().st_size)
    body = list(claude_code_requests(path))[-1]
    for fmt, raw in [(ANTHROPIC, json.dumps(body)), (ANTHROPIC, json.dumps(body, ensure_ascii=False, indent=2)),
                     (OPENAI_CHAT, json.dumps(list(mini_swe_requests(mini_swe_trace_files()[0]))[-1]))]:
        outputs = fmt.extract(json.loads(raw))
        assert fmt.rewrite(raw, {o.path: o.text for o in outputs}) == raw
        target = max(outputs, key=lambda o: len(o.text))
        new_raw = fmt.rewrite(raw, {target.path: "[shortened]"})
        start = next(i for i, (a, b) in enumerate(zip(raw, new_raw)) if a != b)
        assert new_raw[start:].startswith("[shortened]")
        old_end = len(raw) - len(new_raw) + start + len("[shortened]")
        assert raw[old_end:] == new_raw[start + len("[shortened]"):]
        assert json.loads(raw[start - 1:old_end + 1]) == target.text
        reparsed = fmt.extract(json.loads(new_raw))
        assert [o.text for o in reparsed] == ["[shortened]" if o.path == target.path else o.text for o in outputs]
