"""The real agents, through a real mitmdump with the addon and the shipped rules.

Claude Code, Codex and mini-swe-agent are installed from their registries (once per machine, see
``agents/install.py``), then each runs one short task in a small git project: the scripted fake
model asks for four shell commands (a service log's tail, ``git log --stat``, ``git log``, a
failing test) and then finishes. The agent really runs them; the test checks what a user of the
proxy would notice: the agent finishes as it would without the proxy, its outputs reach the
provider compressed, what was sent once is sent again unchanged (the prompt cache keeps hitting),
every call is in the flow log, and the credential is not.

Each configuration runs once per module (a module fixture); its tests read what happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

from .agents.checks import (
    assert_prefix_kept,
    assert_resent_unchanged,
    assert_secret_not_stored,
    command_output,
    output_of_turn,
    wait_for_flows,
)
from .agents.clis import ClaudeCode, Codex, Credential, MiniSweAgent
from .agents.fixtures import INSTALL_AND_RUN_TIMEOUT_S
from .agents.headroom_setup import run_headroom_setup
from .agents.install import InstalledAgent
from .agents.session import AgentSession, run_session
from .agents.workspace import COMMANDS, make_workspace
from .conftest import Proxy
from .fake_provider import FakeProvider
from .harness import wait_for_rows
from .scripted_model import Exchange, Say, Shell, Turn, TurnSource

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(INSTALL_AND_RUN_TIMEOUT_S)]

TASK = "Look around this repository and run its tests."
FINAL = "The total is off by one in src/inventory.py; the rest looks fine."
SHELL_TURNS: list[Turn] = [
    Shell(COMMANDS["log_tail"]), Shell(COMMANDS["git_log_stat"]),
    Shell(COMMANDS["git_log"]), Shell(COMMANDS["failing_test"]),
]
LOG_TAIL, FAILING_TEST = 0, 3  # turn numbers in SHELL_TURNS
MINI_SWE_AGENT_DONE = Shell("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT")
"""mini-swe-agent ends a task when a command prints this; a text answer would be a format error."""


StartModuleProxy = Callable[..., Proxy]


def _session(
    fake: FakeProvider, start_module_proxy: StartModuleProxy, tmp_path_factory: pytest.TempPathFactory,
    agent_of_home: Callable[[Path, Proxy], object], name: str, turns: list[TurnSource],
) -> AgentSession:
    proxy = start_module_proxy(options={"headroom_rules": ""}, name=f"{name}-proxy")
    workdir = make_workspace(tmp_path_factory.mktemp(f"{name}-project"))
    agent = agent_of_home(tmp_path_factory.mktemp(f"{name}-home"), proxy)
    return run_session(fake, agent, TASK, workdir, turns=turns, proxy=proxy)  # type: ignore[arg-type]


Shown = Callable[[AgentSession], AgentSession]


# --------------------------------------------------------------------------------------------
# What every agent must do


def assert_finished(session: AgentSession) -> None:
    run = session.run
    assert not run.timed_out and run.returncode == 0, f"the agent did not finish cleanly: {run.describe()}"
    assert session.script.finished, "the agent stopped before the script's last turn"


def assert_commands_ran(session: AgentSession, first: int = 0) -> None:
    """The outputs the provider got are the agent's real runs in the project, not anything else.
    ``first``: the script's turns before ``SHELL_TURNS``."""
    failing = output_of_turn(session.script, first + FAILING_TEST)
    assert "FAIL: test_total" in failing and "AssertionError: 6 != 7" in failing, failing[:2000]


GIT_LOG = 2  # turn number in SHELL_TURNS


def assert_nothing_lossy(session: AgentSession) -> None:
    """Without `headroom mcp` registered the agent cannot retrieve, so nothing lossy is done: the
    log tail reaches the provider as it is."""
    raw_log = command_output(session.workdir, COMMANDS["log_tail"])
    sent_log = output_of_turn(session.script, LOG_TAIL)
    assert "[headroom: log" not in sent_log and raw_log.rstrip("\n").rsplit("\n", 1)[-1] in sent_log


def assert_outputs_compressed(session: AgentSession) -> None:
    """Nothing lossy without a retrieve tool, yet the plain ``git log`` after ``git log --stat``
    reaches the provider as references to the lines already sent."""
    assert_nothing_lossy(session)
    raw = command_output(session.workdir, COMMANDS["git_log"])
    sent = output_of_turn(session.script, GIT_LOG)
    assert "[headroom: seen lines" in sent, f"git log reached the provider uncompressed:\n{sent[:1500]}"
    assert len(sent) < len(raw), (len(sent), len(raw))


def assert_resent_outputs_unchanged(session: AgentSession) -> None:
    compared = assert_resent_unchanged(session.script.outputs_by_request())
    # outputs 1..4 are resent by the requests after theirs: 3 + 2 + 1 at least
    assert compared >= 6, f"only {compared} resent outputs to compare: the agent resends its history"


def assert_logged(session: AgentSession, route: str, conversation_calls: int) -> list[dict]:
    """Every conversation call is a row of the flow log, with the agent's original outputs."""
    assert session.proxy is not None
    flows = wait_for_flows(session.proxy.db_path, route, conversation_calls)
    assert sum(row["tool_outputs_rewritten"] or 0 for row in flows) >= 1, flows
    raw_start = command_output(session.workdir, COMMANDS["git_log"]).split("\n", 1)[0]
    calls = wait_for_rows(session.proxy.db_path, "tool_calls", len(SHELL_TURNS))
    originals = [row["output"] for row in calls if raw_start in (row["output"] or "")]
    sent = output_of_turn(session.script, GIT_LOG)
    assert any(len(original) > len(sent) for original in originals), (
        "the flow log does not keep git log as the agent sent it"
    )
    return flows


def assert_credential_not_stored(session: AgentSession, credential: Credential) -> None:
    assert session.proxy is not None
    assert_secret_not_stored(session.proxy.db_path.parent, credential.value)


# --------------------------------------------------------------------------------------------
# Claude Code


CLAUDE_API_KEY = Credential.anthropic_api_key()
CLAUDE_OAUTH = Credential.anthropic_oauth()


@pytest.fixture(scope="module")
def claude_code_api_key(
    claude_code_cli: InstalledAgent, _fake_provider_server: FakeProvider,
    start_module_proxy: StartModuleProxy, tmp_path_factory: pytest.TempPathFactory,
) -> AgentSession:
    return _session(_fake_provider_server, start_module_proxy, tmp_path_factory,
                    lambda home, _: ClaudeCode(claude_code_cli, home, credential=CLAUDE_API_KEY),
                    "claude-api-key", [*SHELL_TURNS, Say(FINAL)])


@pytest.fixture(scope="module")
def claude_code_subscription(
    claude_code_cli: InstalledAgent, _fake_provider_server: FakeProvider,
    start_module_proxy: StartModuleProxy, tmp_path_factory: pytest.TempPathFactory,
) -> AgentSession:
    return _session(_fake_provider_server, start_module_proxy, tmp_path_factory,
                    lambda home, _: ClaudeCode(claude_code_cli, home, credential=CLAUDE_OAUTH),
                    "claude-oauth", [*SHELL_TURNS, Say(FINAL)])


def _messages_requests(session: AgentSession) -> list:
    requests = session.conversation_requests("/v1/messages")
    assert len(requests) >= len(SHELL_TURNS) + 1, [r.path for r in session.requests]
    return requests


def test_claude_code_with_an_api_key(claude_code_api_key: AgentSession, described_on_failure: Shown) -> None:
    session = described_on_failure(claude_code_api_key)
    assert_finished(session)
    assert FINAL in session.run.stdout
    assert_commands_ran(session)
    assert_outputs_compressed(session)
    assert_resent_outputs_unchanged(session)
    flows = assert_logged(session, "/v1/messages", len(_messages_requests(session)))
    assert {(f["credential_kind"], f["attested"], f["policy"]) for f in flows} == {("api_key", 1, "rewrite")}
    assert_credential_not_stored(session, CLAUDE_API_KEY)


def test_claude_code_with_a_subscription_token(
    claude_code_subscription: AgentSession, described_on_failure: Shown
) -> None:
    """``CLAUDE_CODE_OAUTH_TOKEN``: the bearer token and the OAuth beta reach the provider as sent."""
    session = described_on_failure(claude_code_subscription)
    assert_finished(session)
    assert FINAL in session.run.stdout
    assert_commands_ran(session)
    requests = _messages_requests(session)
    for request in requests:
        assert request.header("authorization") == f"Bearer {CLAUDE_OAUTH.value}"
        assert "oauth-2025-04-20" in (request.header("anthropic-beta") or "")
        assert request.header("x-api-key") is None
    assert_resent_outputs_unchanged(session)
    # a subscription body Claude Code attested reaches the provider exactly as it was sent
    sent = output_of_turn(session.script, LOG_TAIL)
    assert "[headroom:" not in sent and sent.rstrip("\n").endswith(
        command_output(session.workdir, COMMANDS["log_tail"]).rstrip("\n").rsplit("\n", 1)[-1])
    flows = wait_for_flows(session.proxy.db_path, "/v1/messages", len(requests))
    for flow in flows:
        assert (flow["credential_kind"], flow["attested"], flow["policy"], flow["unmodified_reason"]) == (
            "subscription", 1, "keep", "attested"), flow
        assert flow["request_bytes_after"] == flow["request_bytes_before"] and not flow["tool_outputs_rewritten"]
        assert flow["agent"].startswith("claude-cli/")
    # and its outputs are still logged, as the agent produced them
    assert len(wait_for_rows(session.proxy.db_path, "tool_calls", len(SHELL_TURNS))) >= len(SHELL_TURNS)
    assert_credential_not_stored(session, CLAUDE_OAUTH)


@pytest.mark.parametrize("which", ["api_key", "subscription"])
def test_claude_code_attests_every_body_it_sends(which: str, request: pytest.FixtureRequest) -> None:
    """Through a transparent proxy Claude Code believes it talks to the first-party API and puts
    its billing attestation (``cch=``) first in ``system``, whatever the credential."""
    session = request.getfixturevalue("claude_code_api_key" if which == "api_key" else "claude_code_subscription")
    for body in (r.json() for r in _messages_requests(session)):
        first = body["system"][0]["text"]
        assert first.startswith("x-anthropic-billing-header: cc_version="), first[:200]
        assert "cch=" in first, first


# --------------------------------------------------------------------------------------------
# Codex


CODEX_API_KEY = Credential.openai_api_key()
CODEX_CHATGPT = Credential.chatgpt_login()
CODEX_RUNS = {
    # name: (credential, transport, host, route)
    "websocket": (CODEX_API_KEY, "websocket", "api.openai.com", "/v1/responses"),
    "http": (CODEX_API_KEY, "http", "api.openai.com", "/v1/responses"),
    "chatgpt-websocket": (CODEX_CHATGPT, "websocket", "chatgpt.com", "/backend-api/codex/responses"),
}


def codex_named_headroom_mcp(body: dict) -> bool:
    """Whether a Responses body holds Codex's note that headroom mcp's tools can be loaded (it
    adds it once the server has started, naming the servers' namespaces)."""
    for item in body.get("input") or []:
        for part in item.get("content") or [] if isinstance(item, dict) and item.get("role") == "developer" else []:
            text = part.get("text", "") if isinstance(part, dict) else ""
            if "Deferred tool namespaces:" in text and "- mcp__headroom" in text.splitlines():
                return True
    return False


def _wait_for_headroom_mcp(exchange: Exchange) -> Shell:
    return Shell("true" if codex_named_headroom_mcp(exchange.payload) else "sleep 2", note="Waiting.")


CODEX_WAITS: list[TurnSource] = [_wait_for_headroom_mcp] * 4
"""Codex starts MCP servers beside the first turn and names them once they are up: outputs sent
before then are compressed losslessly for good (their form may not change), so the four commands
wait for it (up to 8 s, no longer than it takes)."""


@dataclass
class SetUpCodex(Codex):
    """Codex in a HOME that ``headroom setup`` has run in: ``headroom mcp`` (on the proxy's flow
    log) in its config.toml, so its requests declare the retrieve tool and may be compressed lossily."""

    proxy: Proxy | None = None

    def prepare(self, workdir: Path) -> None:
        super().prepare(workdir)  # Codex's own config and login first: setup edits them as a user's
        assert self.proxy is not None
        run_headroom_setup(self.home, self.proxy, "~/.codex/config.toml")


@pytest.fixture(scope="module", params=sorted(CODEX_RUNS))
def codex_session(
    request: pytest.FixtureRequest, codex_cli: InstalledAgent, _fake_provider_server: FakeProvider,
    start_module_proxy: StartModuleProxy, tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, AgentSession]]:
    credential, transport, _, _ = CODEX_RUNS[request.param]
    yield request.param, _session(
        _fake_provider_server, start_module_proxy, tmp_path_factory,
        lambda home, proxy: SetUpCodex(codex_cli, home, credential=credential, transport=transport, proxy=proxy),
        f"codex-{request.param}", [*CODEX_WAITS, *SHELL_TURNS, Say(FINAL)],
    )


def assert_log_elided(session: AgentSession, first: int = 0) -> None:
    """With the retrieve tool declared, the log tail loses lines behind refs; the flow log
    keeps it as the agent sent it. ``first``: the script's turns before ``SHELL_TURNS``."""
    raw = command_output(session.workdir, COMMANDS["log_tail"])
    sent = output_of_turn(session.script, first + LOG_TAIL)
    assert re.search(r"\[headroom: log [^\]]*#[0-9a-f]{12}\]", sent), f"the log tail reached the provider whole:\n{sent[:1500]}"
    assert len(sent) < len(raw) * 0.8 and raw.rstrip("\n").rsplit("\n", 1)[-1] in sent, (len(sent), len(raw))
    assert session.proxy is not None
    calls = wait_for_rows(session.proxy.db_path, "tool_calls", len(SHELL_TURNS))
    last_line = raw.rstrip("\n").rsplit("\n", 1)[-1]
    assert any(last_line in (row["output"] or "") and len(row["output"]) >= len(raw.rstrip("\n"))
               for row in calls), "the flow log does not keep the log tail as the agent sent it"


def test_codex(codex_session: tuple[str, AgentSession], described_on_failure: Shown) -> None:
    name, session = codex_session
    credential, transport, host, route = CODEX_RUNS[name]
    described_on_failure(session)
    assert_finished(session)
    assert FINAL in session.run.stdout
    assert_commands_ran(session, first=len(CODEX_WAITS))
    carriers = [r for r in session.requests if r.route == route]  # the upgrades, or the POSTs
    assert carriers and {r.header("authorization") for r in carriers} == {f"Bearer {credential.value}"}
    if credential.kind == "chatgpt":
        assert all(r.header("chatgpt-account-id") for r in carriers), "Codex names its ChatGPT workspace"
    if transport == "websocket":
        messages = [m for m in session.ws_messages if m.json().get("type") == "response.create"]
        assert messages and {(m.host, m.path) for m in messages} == {(host, route)}
        calls = len(messages)
        # Each message after the first names the previous response and carries only what is new.
        assert all(m.json().get("previous_response_id") for m in messages[1:])
        declared = [m.json() for m in messages]
    else:
        requests = session.conversation_requests(route)
        calls = len(requests)
        assert_resent_outputs_unchanged(session)
        # each request resends the whole conversation: the bytes up to the last turn before stay as sent
        assert assert_prefix_kept([r.body for r in requests], "input") >= len(SHELL_TURNS)
        declared = [r.json() for r in requests]
    named = [number for number, body in enumerate(declared) if codex_named_headroom_mcp(body)]
    assert named and named[0] <= len(CODEX_WAITS), f"Codex named headroom mcp in requests {named} of {len(declared)}"
    assert_log_elided(session, first=len(CODEX_WAITS))
    flows = wait_for_flows(session.proxy.db_path, route, calls)
    assert {row["transport"] for row in flows} == {transport}
    assert sum(row["tool_outputs_rewritten"] or 0 for row in flows) >= 1, flows
    assert_credential_not_stored(session, credential)


# --------------------------------------------------------------------------------------------
# mini-swe-agent


MINI_KEY = Credential.anthropic_api_key()


@pytest.fixture(scope="module")
def mini_swe_agent_session(
    mini_swe_agent_cli: InstalledAgent, _fake_provider_server: FakeProvider,
    start_module_proxy: StartModuleProxy, tmp_path_factory: pytest.TempPathFactory,
) -> AgentSession:
    return _session(_fake_provider_server, start_module_proxy, tmp_path_factory,
                    lambda home, _: MiniSweAgent(mini_swe_agent_cli, home, credential=MINI_KEY),
                    "mini-swe-agent", [*SHELL_TURNS, MINI_SWE_AGENT_DONE])


def test_mini_swe_agent(mini_swe_agent_session: AgentSession, described_on_failure: Shown) -> None:
    session = described_on_failure(mini_swe_agent_session)
    assert_finished(session)
    assert_commands_ran(session)
    assert_resent_outputs_unchanged(session)
    requests = session.conversation_requests("/v1/messages")
    assert len(requests) == len(SHELL_TURNS) + 1
    flows = wait_for_flows(session.proxy.db_path, "/v1/messages", len(requests))
    assert {row["host"] for row in flows} == {"api.anthropic.com"}
    assert_credential_not_stored(session, MINI_KEY)


# What mini-swe-agent's outputs become (JSON observations and its text config, without a retrieve
# tool: losslessly) is checked in test_agents_framing_e2e.py.
