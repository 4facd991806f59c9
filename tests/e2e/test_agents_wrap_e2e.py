"""The real agents through ``headroom wrap``: wrap starts the proxy, the agent is its child.

The same scripted task as ``test_agents_e2e.py`` (four shell commands the agent really runs, then
a final answer), but nothing routes the agent except wrap: its environment has no proxy and no
trust variable of its own. The proxy wrap starts gets the test's redirect script and upstream CA
through ``--script`` and ``--set``, as a user passes their own mitmdump options.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .agents.checks import wait_for_flows
from .agents.clis import ClaudeCode, Codex, Credential
from .agents.fixtures import INSTALL_AND_RUN_TIMEOUT_S
from .agents.install import InstalledAgent
from .agents.session import AgentSession
from .fake_provider import FakePKI, FakeProvider
from .harness import REDIRECT_SCRIPT, TIKTOKEN_CACHE_DIR
from .scripted_model import Say
from .test_agents_e2e import (
    FINAL, SHELL_TURNS, TASK, assert_commands_ran, assert_finished, assert_nothing_lossy,
    assert_outputs_compressed, assert_resent_outputs_unchanged,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(INSTALL_AND_RUN_TIMEOUT_S)]


def _wrap(tmp_path: Path, fake: FakeProvider, pki: FakePKI) -> list[str]:
    return [
        sys.executable, "-m", "headroom_mitm.addon.cli", "wrap", "--port", "0",
        "--confdir", str(tmp_path / "confdir"),
        "--script", str(REDIRECT_SCRIPT), "--set", f"e2e_fake_port={fake.port}",
        "--set", f"ssl_verify_upstream_trusted_ca={pki.ca_cert_path}",
        "--set", f"headroom_db={tmp_path / 'flows.db'}", "--set", "headroom_rules=",
        "--",
    ]


def _proxy_gone(home: Path) -> bool:
    """wrap's proxy noted itself under the agent's HOME; a stopped proxy removes that note."""
    return not list((home / ".headroom" / "run").glob("*.json"))


def _run(agent_session, agent, workspace: Path, tmp_path: Path, fake: FakeProvider, pki: FakePKI) -> AgentSession:
    return agent_session(agent, TASK, workspace, turns=[*SHELL_TURNS, Say(FINAL)], proxy=None,
                         extra_env={"TIKTOKEN_CACHE_DIR": str(TIKTOKEN_CACHE_DIR)},
                         wrap=_wrap(tmp_path, fake, pki))


def test_claude_code_through_wrap(
    claude_code_cli: InstalledAgent, workspace: Path, agent_session, fake: FakeProvider, pki: FakePKI,
    tmp_path: Path,
) -> None:
    key = Credential.anthropic_api_key()
    agent = ClaudeCode(claude_code_cli, tmp_path / "home", credential=key)
    session = _run(agent_session, agent, workspace, tmp_path, fake, pki)
    assert_finished(session)
    assert FINAL in session.run.stdout
    assert_commands_ran(session)
    assert_outputs_compressed(session)
    assert_resent_outputs_unchanged(session)
    requests = session.conversation_requests("/v1/messages")
    assert {request.header("x-api-key") for request in requests} == {key.value}
    wait_for_flows(tmp_path / "flows.db", "/v1/messages", len(requests))
    assert _proxy_gone(agent.home), "the proxy wrap started outlived the agent"


def test_codex_through_wrap(
    codex_cli: InstalledAgent, workspace: Path, agent_session, fake: FakeProvider, pki: FakePKI,
    tmp_path: Path,
) -> None:
    agent = Codex(codex_cli, tmp_path / "home", transport="websocket")
    session = _run(agent_session, agent, workspace, tmp_path, fake, pki)
    assert_finished(session)
    assert FINAL in session.run.stdout
    assert_commands_ran(session)
    assert_nothing_lossy(session)  # Codex's exec outputs get no lossless rendering on this task
    turns = [message for message in session.ws_messages if message.json().get("type") == "response.create"]
    assert turns and {(message.host, message.path) for message in turns} == {("api.openai.com", "/v1/responses")}
    # over the socket each turn carries only what is new, naming the response before it
    assert all(message.json().get("previous_response_id") for message in turns[1:])
    flows = wait_for_flows(tmp_path / "flows.db", "/v1/responses", len(turns))
    assert {row["transport"] for row in flows} == {"websocket"}
    assert _proxy_gone(agent.home), "the proxy wrap started outlived the agent"
