"""Real agents whose outputs are framed, and the way back, through mitmdump with the shipped rules.

- mini-swe-agent, in its default config (JSON observations in tool results) and its text config
  (each command in a fenced block of the reply, its output a plain user message): its outputs are
  read as tool outputs, compressed inside their framing (losslessly: it has no retrieve tool),
  resent unchanged, its failing test is logged as a failure with its exit code, and one
  conversation is one session.
- Claude Code after ``headroom setup`` (which registers ``headroom mcp``): the scripted model reads
  the ref of a log the proxy elided and calls ``mcp__headroom__headroom_retrieve`` on it; Claude
  Code runs the MCP server, and the original reaches the model as the tool's result, byte for byte.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from headroom_mitm.addon.compress.markers import ref_of

from .agents.checks import assert_resent_unchanged, command_output, output_of_turn, wait_for_flows
from .agents.clis import ClaudeCode, Credential, MiniSweAgent
from .agents.fixtures import INSTALL_AND_RUN_TIMEOUT_S
from .agents.headroom_setup import run_headroom_setup
from .agents.install import InstalledAgent
from .agents.session import AgentSession, run_session
from .agents.workspace import COMMANDS, make_workspace
from .fake_provider import FakeProvider
from .conftest import Proxy
from .harness import wait_for_rows
from .scripted_model import Exchange, Say, Shell, ToolCall

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(INSTALL_AND_RUN_TIMEOUT_S)]

TASK = "Look around this repository and run its tests."
MINI_TURNS = [Shell(COMMANDS["log_tail"]), Shell(COMMANDS["git_log_stat"]), Shell(COMMANDS["git_log"]),
              Shell(COMMANDS["failing_test"]), Shell("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT")]
GIT_LOG, FAILING_TEST = 2, 3
RETRIEVE = "mcp__headroom__headroom_retrieve"
_REF = re.compile(r"\[headroom: log [^\[\]#\n]*#([0-9a-f]{12})\]")


class TextBasedMiniSweAgent(MiniSweAgent):
    """mini-swe-agent's text config: no tools, the command in a fenced block of the reply."""

    def command(self, prompt: str, workdir: Path) -> list[str]:
        return [*super().command(prompt, workdir), "--model-class", "litellm_textbased"]


@pytest.fixture(scope="module", params=["mini.yaml", "mini_textbased.yaml"])
def mini_swe_agent(request: pytest.FixtureRequest, mini_swe_agent_cli: InstalledAgent,
                   _fake_provider_server: FakeProvider, start_module_proxy,
                   tmp_path_factory: pytest.TempPathFactory) -> tuple[str, AgentSession]:
    name = request.param.removesuffix(".yaml")
    proxy = start_module_proxy(options={"headroom_rules": ""}, name=f"{name}-proxy")
    workdir = make_workspace(tmp_path_factory.mktemp(f"{name}-project"))
    agent_class = TextBasedMiniSweAgent if request.param == "mini_textbased.yaml" else MiniSweAgent
    agent = agent_class(mini_swe_agent_cli, tmp_path_factory.mktemp(f"{name}-home"), config=request.param)
    return request.param, run_session(_fake_provider_server, agent, TASK, workdir, turns=MINI_TURNS, proxy=proxy)


def test_mini_swe_agent_outputs_are_tool_outputs_compressed_and_logged(mini_swe_agent, described_on_failure) -> None:
    config, session = mini_swe_agent
    described_on_failure(session)
    assert not session.run.timed_out and session.run.returncode == 0, session.run.describe()
    assert session.script.finished, "mini-swe-agent stopped before the script's last turn"
    assert assert_resent_unchanged(session.script.outputs_by_request()) >= 6

    # git log after git log --stat: its commit lines were sent already, so they are referenced
    sent_git_log = output_of_turn(session.script, GIT_LOG)
    raw_git_log = command_output(session.workdir, COMMANDS["git_log"])
    assert "[headroom: seen lines" in sent_git_log, sent_git_log[:1500]
    assert len(sent_git_log) < len(raw_git_log)
    if config == "mini.yaml":  # a JSON observation, its output escaped the agent's way
        observation = json.loads(sent_git_log)
        assert observation["returncode"] == 0 and {"output", "output_head"} & set(observation)
    else:  # a plain user message answering the reply's fenced command
        assert sent_git_log.startswith("<returncode>0</returncode>\n")
        body = session.conversation_requests("/v1/messages")[-1].json()
        assert "tools" not in body and all(isinstance(m["content"], (str, list)) for m in body["messages"])

    requests = session.conversation_requests("/v1/messages")
    flows = wait_for_flows(session.proxy.db_path, "/v1/messages", len(requests))
    assert len({row["session_id"] for row in flows}) == 1, "one conversation, one session"
    assert sum(row["tool_outputs_rewritten"] or 0 for row in flows) >= 1
    calls = wait_for_rows(session.proxy.db_path, "tool_calls", len(MINI_TURNS) - 1)
    by_command = {json.loads(row["arguments"])["command"]: row for row in calls}
    failing = by_command[COMMANDS["failing_test"]]
    assert (failing["is_error"], failing["exit_code"]) == (1, 1), failing
    assert by_command[COMMANDS["git_log"]]["exit_code"] == 0 and not by_command[COMMANDS["git_log"]]["is_error"]
    assert {row["session_id"] for row in calls} == {flows[0]["session_id"]}


# --------------------------------------------------------------------------------------------
# Claude Code following a ref back through `headroom mcp`


def _retrieve_what_was_elided(exchange: Exchange) -> ToolCall | Say:
    refs = [ref for text in exchange.tool_outputs.values() for ref in _REF.findall(text)]
    if not refs:
        return Say("No marker to follow.")
    return ToolCall(RETRIEVE, {"ref": refs[0]}, note="Reading what the marker left out.")


@dataclass
class SetUpClaudeCode(ClaudeCode):
    """Claude Code in a HOME that ``headroom setup`` has run in: the proxy in its settings'
    ``env``, ``headroom mcp`` (on the proxy's flow log) a user-scope server in ``~/.claude.json``."""

    proxy: Proxy | None = None
    tool_search: bool = True
    """False: Claude Code sends its MCP tools with every request, in ``tools``, not behind ToolSearch."""

    def prepare(self, workdir: Path) -> None:
        super().prepare(workdir)  # Claude Code's own state first: setup edits it as a user's file
        assert self.proxy is not None
        run_headroom_setup(self.home, self.proxy, "~/.claude.json")

    def environment(self) -> dict[str, str]:
        env = super().environment()
        if not self.tool_search:
            env["ENABLE_TOOL_SEARCH"] = "false"
        return env


@pytest.fixture(scope="module", params=["deferred", "listed"])
def claude_code_retrieving(request: pytest.FixtureRequest, claude_code_cli: InstalledAgent,
                           _fake_provider_server: FakeProvider, start_module_proxy,
                           tmp_path_factory: pytest.TempPathFactory) -> AgentSession:
    """``deferred``: Claude Code as it comes, naming MCP tools in a note and loading one through
    ToolSearch before the model calls it; ``listed``: with tool search off, in ``tools``."""
    proxy = start_module_proxy(options={"headroom_rules": ""}, name=f"claude-mcp-{request.param}-proxy")
    workdir = make_workspace(tmp_path_factory.mktemp("claude-mcp-project"))
    agent = SetUpClaudeCode(claude_code_cli, tmp_path_factory.mktemp("claude-mcp-home"),
                            credential=Credential.anthropic_api_key(), proxy=proxy,
                            tool_search=request.param == "deferred")
    # the first command gives `headroom mcp` time to connect: outputs sent before the model
    # knows of the tool are compressed losslessly and keep that form
    turns = [Shell("sleep 3 && git log --oneline -3"), Shell(COMMANDS["log_tail"])]
    if request.param == "deferred":
        turns.append(ToolCall("ToolSearch", {"query": f"select:{RETRIEVE}", "max_results": 1}))
    turns += [_retrieve_what_was_elided, Say("The log's middle is fine.")]
    return run_session(_fake_provider_server, agent, TASK, workdir, turns=turns, proxy=proxy)


def test_claude_code_reads_back_what_a_marker_left_out(claude_code_retrieving: AgentSession,
                                                       described_on_failure) -> None:
    session = described_on_failure(claude_code_retrieving)
    assert not session.run.timed_out and session.run.returncode == 0, session.run.describe()
    assert session.script.finished, "Claude Code stopped before the script's last turn"
    bodies = [r.json() for r in session.conversation_requests("/v1/messages")]
    assert any(RETRIEVE in json.dumps(body) for body in bodies), "Claude Code never told the model of the tool"
    # the log tail as the model had it when it asked for the original: once the model has the tool
    # (its name in `tools`, or in Claude Code's note on deferred tools) the log loses its middle
    asking = session.script.exchanges[-2].tool_outputs
    sent_log = next(text for call_id, text in asking.items() if "script01n" in call_id)
    refs = _REF.findall(sent_log)
    assert refs, f"the log was not elided behind a ref:\n{sent_log[:1500]}"
    retrieved = output_of_turn(session.script, len(session.script.turns) - 2)
    # what came back is the original the ref names, byte for byte (a ref is its text's hash) ...
    assert ref_of(retrieved) == refs[0], f"the retrieve call did not give back #{refs[0]}:\n{retrieved[:500]}"
    # ... and it is the very lines the marker stood for: between the lines kept around the marker
    lines = sent_log.split("\n")
    at = next(number for number, line in enumerate(lines) if f"#{refs[0]}]" in line)
    raw_log = command_output(session.workdir, COMMANDS["log_tail"])
    assert "\n".join([lines[at - 1], retrieved, lines[at + 1]]) in raw_log, retrieved[:500]
    assert retrieved not in sent_log, "the model had those lines already"
