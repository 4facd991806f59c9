"""Pytest fixtures for real-agent tests; ``tests/e2e/conftest.py`` makes them available to all e2e tests.

    @pytest.mark.timeout(INSTALL_AND_RUN_TIMEOUT_S)
    def test_x(claude_code_cli, workspace, start_proxy, agent_session, tmp_path):
        proxy = start_proxy(options={"headroom_rules": ""})
        session = agent_session(ClaudeCode(claude_code_cli, tmp_path / "home"), "look around",
                                workspace, turns=[Shell("git log"), Say("Done.")], proxy=proxy)
        assert session.run.returncode == 0, session.describe()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from ..fake_provider import FakeProvider
from ..outcome import call_failed
from .install import CLAUDE_CODE, CODEX, MINI_SWE_AGENT, InstalledAgent, installed_or_skip
from .session import AgentSession, run_session
from .workspace import make_workspace

INSTALL_AND_RUN_TIMEOUT_S = 900
"""pytest-timeout for a test that may install an agent first (the first run on a machine)."""


@pytest.fixture(scope="session")
def claude_code_cli() -> InstalledAgent:
    return installed_or_skip(CLAUDE_CODE)


@pytest.fixture(scope="session")
def codex_cli() -> InstalledAgent:
    return installed_or_skip(CODEX)


@pytest.fixture(scope="session")
def mini_swe_agent_cli() -> InstalledAgent:
    return installed_or_skip(MINI_SWE_AGENT)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A fresh project for the agent (see :mod:`.workspace`)."""
    return make_workspace(tmp_path / "project")


@pytest.fixture
def described_on_failure(request: pytest.FixtureRequest) -> Iterator[Callable[[AgentSession], AgentSession]]:
    """Register a session (e.g. one a module fixture ran) to be described if this test fails."""
    sessions: list[AgentSession] = []

    def register(session: AgentSession) -> AgentSession:
        sessions.append(session)
        return session

    yield register

    if call_failed(request):
        for session in sessions:
            print("\n" + session.describe())


@pytest.fixture
def agent_session(
    fake: FakeProvider, described_on_failure: Callable[[AgentSession], AgentSession]
) -> Callable[..., AgentSession]:
    """:func:`.session.run_session` on this test's fake; each session is described if the test fails."""

    def run(*args: Any, **kwargs: Any) -> AgentSession:
        return described_on_failure(run_session(fake, *args, **kwargs))

    return run
