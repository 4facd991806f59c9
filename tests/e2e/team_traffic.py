"""Claude Code conversations a team replays through several proxies, and how to send them.

Each conversation is one session: a ``git push`` that fails and the changed call that works (what
``headroom learn`` finds), a long service log the shipped rules elide behind a ``#ref``, the
proxy's own database URL printed by a command (what redaction must catch), and a test run.
Every request resends the conversation so far, as Claude Code does.
"""

from __future__ import annotations

import hashlib
import re
import ssl
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from .conftest import Proxy
from .fake_provider import FakeProvider
from .payloads import ANTHROPIC_RETRIEVE

MARKER_REF = re.compile(r"\[headroom: [^\[\]\n]*#([0-9a-f]{12})\]")
TURNS = 4

_PUSH_FAILED = (
    "fatal: The current branch feature-{n} has no upstream branch.\n"
    "To push the current branch and set the remote as upstream, use\n\n"
    "    git push --set-upstream origin feature-{n}\n"
)
_PUSH_WORKED = "branch 'feature-{n}' set up to track 'origin/feature-{n}'.\nTo example.test:team/app.git\n"


def service_log(n: int, lines: int = 2500) -> str:
    """A long log whose lines differ in shape (only eliding shortens it), distinct per conversation."""
    words = ("cache", "router", "worker", "scheduler", "gateway", "indexer", "billing", "session")
    verbs = ("accepted", "queued", "merged", "rotated", "flushed", "resolved", "picked up", "handed off")
    out = [
        f"2025-06-0{1 + n % 9}T10:{(i // 60) % 60:02d}:{i % 60:02d}Z {words[i % 8]}-{i % 5} "
        f"{verbs[(i * 3) % 8]} batch {'x' * (i % 4)}{i} for tenant {chr(97 + (i + n) % 26)}{'-eu' if i % 2 else ''}"
        for i in range(lines)
    ]
    out.insert(lines // 2, f"2025-06-01T10:25:00Z billing-0 ERROR invoice {88000 + n} could not be rendered: timeout")
    return "\n".join(out)


def _calls(n: int, database_url: str) -> list[tuple[str, str, bool]]:
    return [
        ("git push", _PUSH_FAILED.format(n=n), True),
        (f"git push --set-upstream origin feature-{n}", _PUSH_WORKED.format(n=n), False),
        (f"journalctl -u orders-{n} --since today", service_log(n), False),
        ("env | grep DATABASE_URL", f"DATABASE_URL={database_url}\n", False),
    ][:TURNS]


def session_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def request_bodies(n: int, database_url: str) -> list[dict[str, Any]]:
    """The TURNS requests of conversation ``n``, each resending every earlier turn."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "ship the orders fix"}]
    bodies = []
    for index, (command, output, failed) in enumerate(_calls(n, database_url)):
        call_id = f"toolu_team{n:02d}_{index}"
        messages = messages + [
            {"role": "assistant", "content": [{"type": "tool_use", "id": call_id, "name": "Bash", "input": {"command": command}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call_id, "content": output, "is_error": failed}]},
        ]
        bodies.append({
            "model": "claude-team-e2e", "max_tokens": 64, "messages": messages,
            # the agent can read originals back: the proxy then elides lossily, behind #refs
            "tools": ANTHROPIC_RETRIEVE,
            "system": "You are Claude Code.\nWorking directory: /work/orders\n",
            "metadata": {"user_id": f"user_{'0' * 64}_account__session_{session_id(n)}"},
        })
    return bodies


def replay(proxy: Proxy, conversation: int, database_url: str, pause_s: float = 0.0) -> int:
    """Send conversation ``conversation`` through ``proxy`` turn by turn, ``pause_s`` before each
    turn; return the requests sent."""
    with _client(proxy) as client:
        for body in request_bodies(conversation, database_url):
            time.sleep(pause_s)
            _post(client, body)
    return TURNS


def send(proxy: Proxy, body: dict[str, Any]) -> None:
    with _client(proxy) as client:
        _post(client, body)


def _client(proxy: Proxy) -> httpx.Client:
    # each proxy its own client: the environment's HTTPS_PROXY names one proxy only
    trust = ssl.create_default_context(cafile=str(proxy.ca_bundle))
    return httpx.Client(proxy=proxy.url, verify=trust, trust_env=False, timeout=60)


def _post(client: httpx.Client, body: dict[str, Any]) -> None:
    response = client.post(
        "https://api.anthropic.com/v1/messages", json=body,
        headers={"x-api-key": "sk-ant-api03-team-e2e-key-not-secret", "anthropic-version": "2023-06-01"},
    )
    assert response.status_code == 200, response.text


def refs_sent_upstream(fake: FakeProvider) -> set[str]:
    """Every #ref in the tool outputs the provider received."""
    found: set[str] = set()
    for request in fake.requests_to("/v1/messages"):
        for text in _tool_results(request.json()):
            found.update(MARKER_REF.findall(text))
    return found


def _tool_results(body: dict[str, Any]) -> Iterator[str]:
    for message in body.get("messages", []):
        if isinstance(message.get("content"), list):
            for block in message["content"]:
                if block.get("type") == "tool_result" and isinstance(block.get("content"), str):
                    yield block["content"]


def distinct_calls(conversations: Iterable[int]) -> int:
    return TURNS * len(list(conversations))


def expected_originals(refs: set[str], conversations: Iterable[int]) -> set[str]:
    """The 12-digit keys the log should hold: what each marker set aside, and the whole log each
    lossy step started from (kept too, under its own hash)."""
    return refs | {hashlib.sha256(service_log(n).encode()).hexdigest()[:12] for n in conversations}
