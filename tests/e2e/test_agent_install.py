"""Installing the agents: a finished install is reused, a failed one says why and leaves nothing."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from .agents import install
from .agents.install import CLAUDE_CODE, AgentUnavailable, install_agent


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HEADROOM_TEST_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_stamped_install_is_reused_without_running_npm(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = replace(CLAUDE_CODE, version="9.9.9-test")
    folder = cache / "npm" / "anthropic-ai_claude-code@9.9.9-test"
    (folder / "node_modules" / ".bin").mkdir(parents=True)
    (folder / "node_modules" / ".bin" / "claude").write_text("#!/bin/sh\n")
    (folder / ".headroom-installed").write_text(package.spec)
    monkeypatch.setenv("PATH", "")  # npm cannot be run at all

    agent = install_agent(package)

    assert agent.executable == folder / "node_modules" / ".bin" / "claude"
    assert agent.install_seconds == 0.0


def test_without_npm_the_reason_names_it_and_nothing_is_left(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = replace(CLAUDE_CODE, version="9.9.9-test")
    half_done = cache / "npm" / "anthropic-ai_claude-code@9.9.9-test"
    half_done.mkdir(parents=True)  # a killed run's leftovers, without the stamp
    monkeypatch.setenv("PATH", "")

    with pytest.raises(AgentUnavailable, match="claude-code@9.9.9-test: npm is not installed"):
        install_agent(package)

    assert not half_done.exists()


def test_a_failing_installer_is_reported_by_its_first_error_line() -> None:
    failing = [sys.executable, "-c", "import sys; print('Collecting x'); "
               "sys.exit('ERROR: No matching distribution found for x==1')"]

    with pytest.raises(AgentUnavailable, match="^pip install x==1 failed: ERROR: No matching distribution found"):
        install._run(failing, timeout=30, what="pip install x==1")


def test_the_first_error_line_is_the_reason() -> None:
    output = "npm warn deprecated x\nnpm ERR! code E404\nnpm ERR! 404 Not Found - GET https://r/x\n"

    assert install._first_error_line(output) == "npm ERR! code E404"
