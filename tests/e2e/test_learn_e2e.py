"""What a real proxy logged teaches ``headroom learn``: a failure and its fix, counted per session."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .clients import anthropic_client
from .conftest import Proxy
from .fake_provider import FakeProvider
from .harness import MITMDUMP, TIKTOKEN_CACHE_DIR, wait_for_rows

pytestmark = pytest.mark.e2e

HEADROOM = MITMDUMP.with_name("headroom")
PUSH_FAILED = (
    "fatal: The current branch feature-{n} has no upstream branch.\n"
    "To push the current branch and set the remote as upstream, use\n\n"
    "    git push --set-upstream origin feature-{n}\n"
)
PUSH_WORKED = "branch 'feature-{n}' set up to track 'origin/feature-{n}'.\nTo example.test:team/app.git\n"


def _turns(n: int) -> list[tuple[dict, dict]]:
    """(tool_use, tool_result) pairs of one session: git push fails, --set-upstream works."""
    calls = [
        ("git push", PUSH_FAILED.format(n=n), True),
        (f"git push --set-upstream origin feature-{n}", PUSH_WORKED.format(n=n), False),
    ]
    turns = []
    for index, (command, output, failed) in enumerate(calls):
        call_id = f"toolu_s{n}_{index}"
        turns.append((
            {"type": "tool_use", "id": call_id, "name": "Bash", "input": {"command": command}},
            {"type": "tool_result", "tool_use_id": call_id, "content": output, "is_error": failed},
        ))
    return turns


def _run_session(client, n: int) -> None:
    """Every request resends the conversation so far, as Claude Code does."""
    messages: list[dict] = [{"role": "user", "content": "push my branch"}]
    for tool_use, tool_result in _turns(n):
        messages += [{"role": "assistant", "content": [tool_use]}, {"role": "user", "content": [tool_result]}]
        client.messages.create(
            model="claude-learn-e2e", max_tokens=64, messages=messages,
            system="You are Claude Code.\nWorking directory: /work/app\n",
            metadata={"user_id": f"user_{'0' * 64}_account__session_00000000-0000-0000-0000-00000000000{n}"},
        )


def _headroom(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(HEADROOM), *args], capture_output=True, text=True, timeout=60,
        env={"TIKTOKEN_CACHE_DIR": str(TIKTOKEN_CACHE_DIR), "PATH": "/usr/bin:/bin"},
    )


def test_learn_finds_what_two_proxied_sessions_share(proxy: Proxy, fake: FakeProvider, tmp_path: Path) -> None:
    client, _ = anthropic_client()
    for n in (1, 2):
        _run_session(client, n)
    wait_for_rows(proxy.db_path, "flows", 4)
    # 4 distinct calls, though the conversations resent them 6 times
    assert len(wait_for_rows(proxy.db_path, "tool_calls", 4)) == 4

    listed = _headroom("learn", str(proxy.db_path), "--project", "all", "--json")
    assert listed.returncode == 0, listed.stderr
    patterns = json.loads(listed.stdout)["patterns"]
    push = next(p for p in patterns if p["trigger"] == "git push")
    assert push["evidence"] == 2
    assert push["fix"] == "git push --set-upstream origin <branch>"

    written = _headroom("learn", str(proxy.db_path), "--project", "all", "--out", str(tmp_path))
    assert written.returncode == 0, written.stderr
    claude_md = (tmp_path / "app" / "CLAUDE.md").read_text()  # a folder per project, named for it
    assert "`git push --set-upstream origin <branch>`" in claude_md and "2 sessions" in claude_md
    assert "/work/app" not in claude_md  # the project's path stays out of the shared file
