"""Install the real coding agents once per machine, into a cache outside the checkout.

npm packages go to ``<cache>/npm/<name>@<version>`` (``npm install --prefix``), Python agents to a
virtual environment of their own under ``<cache>/pip/<name>@<version>``. The cache is
``$HEADROOM_TEST_CACHE`` or ``~/.cache/headroom-mitm-tests`` and survives between test runs, so
only the first run on a machine downloads anything. A file lock keeps two pytest processes from
installing the same agent at once; a stamp file written last says an install is whole. Where npm or
pip cannot install, the test is skipped with the tool's own first error line.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import pytest

logger = logging.getLogger(__name__)

__all__ = [
    "AgentPackage", "InstalledAgent", "AgentUnavailable", "cache_dir", "install_agent",
    "installed_or_skip", "CLAUDE_CODE", "CODEX", "MINI_SWE_AGENT",
]

NPM_TIMEOUT_S = 420.0
PIP_TIMEOUT_S = 600.0
VERSION_TIMEOUT_S = 30.0
_STAMP = ".headroom-installed"


class AgentUnavailable(RuntimeError):
    """The agent could not be installed here; the message says why (the tool's first error line)."""


@dataclass(frozen=True)
class InstalledAgent:
    """One agent CLI ready to run."""

    name: str
    version: str
    executable: Path
    install_seconds: float
    """Time this process spent installing it (0.0 when the cache already had it)."""


@dataclass(frozen=True)
class AgentPackage:
    """Where an agent comes from and how its executable is found once installed."""

    name: str
    registry: str  # "npm" or "pip"
    package: str
    version: str
    executable: str
    """Path of the executable inside the install folder."""

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}" if self.registry == "npm" else f"{self.package}=={self.version}"


CLAUDE_CODE = AgentPackage(
    name="claude-code", registry="npm", package="@anthropic-ai/claude-code",
    version=os.environ.get("HEADROOM_TEST_CLAUDE_CODE_VERSION", "2.1.197"),
    executable="node_modules/.bin/claude",
)
CODEX = AgentPackage(
    name="codex", registry="npm", package="@openai/codex",
    version=os.environ.get("HEADROOM_TEST_CODEX_VERSION", "0.171.0"),
    executable="node_modules/.bin/codex",
)
MINI_SWE_AGENT = AgentPackage(
    name="mini-swe-agent", registry="pip", package="mini-swe-agent",
    version=os.environ.get("HEADROOM_TEST_MINI_SWE_AGENT_VERSION", "2.4.6"),
    executable="bin/mini",
)


def cache_dir() -> Path:
    """The folder installs live in; made on first use."""
    root = Path(os.environ.get("HEADROOM_TEST_CACHE") or Path.home() / ".cache" / "headroom-mitm-tests")
    root.mkdir(parents=True, exist_ok=True)
    return root


def _install_dir(package: AgentPackage) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", package.package.lstrip("@"))
    return cache_dir() / package.registry / f"{safe}@{package.version}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _first_error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if re.search(r"\b(ERR!|ERROR|error:|Error)", line) and "WARNING" not in line:
            return line
    return lines[-1] if lines else "no output"


def _run(args: Sequence[str], timeout: float, what: str) -> None:
    try:
        result = subprocess.run(
            list(args), capture_output=True, text=True, errors="replace", timeout=timeout,
            stdin=subprocess.DEVNULL, env={**os.environ, "npm_config_update_notifier": "false"},
        )
    except FileNotFoundError as error:
        raise AgentUnavailable(f"{what}: {error.filename} is not installed") from error
    except subprocess.TimeoutExpired as error:
        raise AgentUnavailable(f"{what}: no result within {timeout:.0f}s") from error
    if result.returncode != 0:
        raise AgentUnavailable(f"{what} failed: {_first_error_line(result.stderr + result.stdout)}")


def _check_version(executable: Path, package: AgentPackage) -> None:
    """The installed CLI starts and says it is the version we pinned."""
    try:
        result = subprocess.run(
            [str(executable), "--version"], capture_output=True, text=True, errors="replace",
            timeout=VERSION_TIMEOUT_S, stdin=subprocess.DEVNULL,
            env={**os.environ, "MSWEA_CONFIGURED": "true"},
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise AgentUnavailable(f"{executable} does not start: {error}") from error
    if package.version not in result.stdout + result.stderr:
        raise AgentUnavailable(
            f"{executable} --version said {(result.stdout + result.stderr).strip()[:200]!r}, "
            f"expected {package.version}"
        )


def _install(package: AgentPackage, target: Path) -> None:
    if package.registry == "npm":
        _run(["npm", "install", "--prefix", str(target), "--no-audit", "--no-fund",
              "--no-save", "--loglevel=error", package.spec], NPM_TIMEOUT_S, f"npm install {package.spec}")
        return
    _run([sys.executable, "-m", "venv", str(target)], 120.0, f"python -m venv {target}")
    _run([str(target / "bin" / "python"), "-m", "pip", "install", "--quiet",
          "--disable-pip-version-check", package.spec], PIP_TIMEOUT_S, f"pip install {package.spec}")


def install_agent(package: AgentPackage) -> InstalledAgent:
    """The agent from the cache, installed first if needed; AgentUnavailable when that fails."""
    target = _install_dir(package)
    stamp = target / _STAMP
    executable = target / package.executable
    spent = 0.0
    with _locked(cache_dir() / "locks" / f"{target.name}.lock"):
        if not (stamp.exists() and stamp.read_text() == package.spec and executable.exists()):
            shutil.rmtree(target, ignore_errors=True)  # a half-finished install from a killed run
            started = time.monotonic()
            try:
                _install(package, target)
                _check_version(executable, package)
            except AgentUnavailable:
                shutil.rmtree(target, ignore_errors=True)
                raise
            spent = time.monotonic() - started
            stamp.write_text(package.spec)
            logger.info("installed %s into %s in %.0fs", package.spec, target, spent)
    return InstalledAgent(package.name, package.version, executable, spent)


_failures: dict[str, str] = {}


def installed_or_skip(package: AgentPackage) -> InstalledAgent:
    """The installed agent, or ``pytest.skip`` with the reason (remembered: tried once per run)."""
    if package.spec in _failures:
        pytest.skip(_failures[package.spec])
    try:
        return install_agent(package)
    except AgentUnavailable as error:
        _failures[package.spec] = f"{package.name} {package.version} unavailable: {error}"
        pytest.skip(_failures[package.spec])
