"""The real agents as a user runs them: a private HOME, their own login and config, the proxy's env.

Each agent class prepares its HOME (Claude Code's ``~/.claude.json`` onboarding state, Codex's
``~/.codex`` login and config, mini-swe-agent's configured flag), and knows the command line of one
unattended task and the variables it needs. :func:`proxy_env` adds what a user of the proxy sets
(what ``headroom env`` prints). A test that routes the agent some other way (``headroom wrap``)
uses ``agent.command(...)`` and ``agent.environment()`` without it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Protocol, Sequence

from .install import InstalledAgent

__all__ = [
    "Agent", "AgentRun", "ClaudeCode", "Codex", "MiniSweAgent", "Credential",
    "proxy_env", "run_agent", "RUN_TIMEOUT_S",
]

RUN_TIMEOUT_S = 180.0
"""An agent run that has not ended by then is killed (the test then fails with its output)."""

_KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL", "TERM", "TZ", "USER", "LOGNAME", "TMPDIR")
"""The only variables taken from the test's own environment: no key, proxy or base URL leaks in."""


# --------------------------------------------------------------------------------------------
# Credentials


@dataclass(frozen=True)
class Credential:
    """A fake credential of one kind; distinctive, so a test can look for it where it must not be."""

    kind: str  # "api_key" | "oauth" | "chatgpt"
    value: str

    @classmethod
    def anthropic_api_key(cls) -> "Credential":
        return cls("api_key", "sk-ant-api03-e2e" + secrets.token_hex(24) + "-AA")

    @classmethod
    def anthropic_oauth(cls) -> "Credential":
        """A Claude subscription token, as ``claude setup-token`` prints one."""
        return cls("oauth", "sk-ant-oat01-e2e" + secrets.token_hex(24) + "-AA")

    @classmethod
    def openai_api_key(cls) -> "Credential":
        return cls("api_key", "sk-proj-e2e" + secrets.token_hex(24))

    @classmethod
    def chatgpt_login(cls) -> "Credential":
        """A ChatGPT sign-in for Codex (the access token is what travels in ``Authorization``)."""
        return cls("chatgpt", _unsigned_jwt({"exp": int(time.time()) + 86400, "sub": "e2e-user",
                                              "nonce": secrets.token_hex(8)}))


def _unsigned_jwt(claims: Mapping[str, object]) -> str:
    def part(data: Mapping[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(b"sig").decode().rstrip("=")  # Codex reads claims, checks no signature
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.{signature}"


# --------------------------------------------------------------------------------------------
# Running


@dataclass
class AgentRun:
    """One finished (or killed) agent process, with everything needed to tell why it failed."""

    name: str
    args: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

    def describe(self) -> str:
        ending = "was killed after its timeout" if self.timed_out else f"exited with {self.returncode}"
        return (f"{self.name} {ending} after {self.seconds:.1f}s: {' '.join(self.args)}\n"
                f"----- {self.name} stdout -----\n{self.stdout[-12000:]}\n"
                f"----- {self.name} stderr -----\n{self.stderr[-12000:]}")


class Agent(Protocol):
    name: str
    home: Path

    def prepare(self, workdir: Path) -> None: ...
    def command(self, prompt: str, workdir: Path) -> list[str]: ...
    def environment(self) -> dict[str, str]: ...


def base_environment(home: Path) -> dict[str, str]:
    env = {name: os.environ[name] for name in _KEPT_VARIABLES if name in os.environ}
    env.update({"HOME": str(home), "SHELL": "/bin/bash", "XDG_CONFIG_HOME": str(home / ".config"),
                "XDG_CACHE_HOME": str(home / ".cache"), "XDG_DATA_HOME": str(home / ".local" / "share")})
    env.setdefault("LANG", "C.UTF-8")
    return env


def proxy_env(proxy_url: str, mitmproxy_ca: Path, ca_bundle: Path) -> dict[str, str]:
    """What a user of the proxy has in the agent's shell (the variables ``headroom env`` sets)."""
    no_proxy = "localhost,127.0.0.1,::1"
    return {
        "HTTPS_PROXY": proxy_url, "https_proxy": proxy_url,
        "HTTP_PROXY": proxy_url, "http_proxy": proxy_url,
        "NO_PROXY": no_proxy, "no_proxy": no_proxy,
        "NODE_EXTRA_CA_CERTS": str(mitmproxy_ca),
        "CODEX_CA_CERTIFICATE": str(ca_bundle),
        "SSL_CERT_FILE": str(ca_bundle),
        "REQUESTS_CA_BUNDLE": str(ca_bundle),
        "CURL_CA_BUNDLE": str(ca_bundle),
    }


def run_agent(
    agent: Agent, prompt: str, workdir: Path, *,
    extra_env: Mapping[str, str] = {}, timeout: float = RUN_TIMEOUT_S, wrap: Sequence[str] = (),
) -> AgentRun:
    """Prepare ``agent``'s HOME, run one task in ``workdir`` and wait for it (bounded by ``timeout``).

    ``extra_env`` is usually :func:`proxy_env`; ``wrap`` goes before the command
    (e.g. ``["headroom", "wrap", "--"]``).
    """
    agent.home.mkdir(parents=True, exist_ok=True)
    agent.prepare(workdir)
    args = [*wrap, *agent.command(prompt, workdir)]
    env = {**agent.environment(), **extra_env}
    started = time.monotonic()
    process = subprocess.Popen(
        args, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)  # the agent's own children (shell commands) go with it
        stdout, stderr = process.communicate(timeout=30)
        timed_out = True
    return AgentRun(agent.name, args, process.returncode, stdout, stderr,
                    time.monotonic() - started, timed_out)


# --------------------------------------------------------------------------------------------
# Claude Code


@dataclass
class ClaudeCode:
    """``claude -p`` with an API key or a subscription (OAuth) token."""

    cli: InstalledAgent
    home: Path
    credential: Credential = field(default_factory=Credential.anthropic_api_key)
    nonessential_traffic: bool = False
    """False sets CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1, as in CI; True lets side calls through."""
    extra_args: Sequence[str] = ()
    name: str = "claude-code"

    def prepare(self, workdir: Path) -> None:
        state = {
            "hasCompletedOnboarding": True, "bypassPermissionsModeAccepted": True,
            "numStartups": 1, "autoUpdates": False,
            "projects": {str(workdir): {"hasTrustDialogAccepted": True, "allowedTools": []}},
        }
        if self.credential.kind == "api_key":  # the "use this key?" prompt, answered yes
            state["customApiKeyResponses"] = {"approved": [self.credential.value[-20:]], "rejected": []}
        (self.home / ".claude.json").write_text(json.dumps(state, indent=2))
        (self.home / ".claude").mkdir(exist_ok=True)

    def command(self, prompt: str, workdir: Path) -> list[str]:
        return [str(self.cli.executable), "-p", prompt, "--dangerously-skip-permissions",
                "--output-format", "text", *self.extra_args]

    def environment(self) -> dict[str, str]:
        env = base_environment(self.home)
        env["IS_SANDBOX"] = "1"  # --dangerously-skip-permissions is refused as root otherwise
        env["DISABLE_AUTOUPDATER"] = "1"
        if not self.nonessential_traffic:
            env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1"
        variable = "ANTHROPIC_API_KEY" if self.credential.kind == "api_key" else "CLAUDE_CODE_OAUTH_TOKEN"
        env[variable] = self.credential.value
        return env


# --------------------------------------------------------------------------------------------
# Codex


@dataclass
class Codex:
    """``codex exec``: API key (``codex login --with-api-key``) or a ChatGPT login; WebSocket or HTTP."""

    cli: InstalledAgent
    home: Path
    credential: Credential = field(default_factory=Credential.openai_api_key)
    transport: str = "websocket"
    """"websocket" (Codex's default) or "http" (a custom provider that streams SSE)."""
    extra_args: Sequence[str] = ()
    name: str = "codex"

    @property
    def codex_home(self) -> Path:
        return self.home / ".codex"

    def prepare(self, workdir: Path) -> None:
        self.codex_home.mkdir(parents=True, exist_ok=True)
        lines = ["check_for_update_on_startup = false", ""]
        if self.transport == "http":
            lines = ['model_provider = "openai-http"', *lines,
                     "[model_providers.openai-http]", 'name = "OpenAI (HTTP)"',
                     'base_url = "https://api.openai.com/v1"', 'env_key = "OPENAI_API_KEY"',
                     'wire_api = "responses"', ""]
        lines += [f"[projects.{json.dumps(str(workdir))}]", 'trust_level = "trusted"', ""]
        (self.codex_home / "config.toml").write_text("\n".join(lines))
        if self.credential.kind == "chatgpt":
            self._write_chatgpt_login()
        else:
            self._login_with_api_key()

    def _login_with_api_key(self) -> None:
        """The way a user stores a key: ``codex login --with-api-key`` reading it from stdin."""
        result = subprocess.run(
            [str(self.cli.executable), "login", "--with-api-key"], input=self.credential.value + "\n",
            env=self.environment(), capture_output=True, text=True, timeout=60,
        )
        if result.returncode != 0:
            raise AssertionError(f"codex login --with-api-key failed ({result.returncode}):\n{result.stderr}")

    def _write_chatgpt_login(self) -> None:
        """The auth.json ``codex login`` writes after a ChatGPT sign-in (tokens fresh, never refreshed)."""
        account = "acct-e2e-" + secrets.token_hex(4)
        id_token = _unsigned_jwt({
            "email": "e2e@example.test", "exp": int(time.time()) + 86400,
            "https://api.openai.com/auth": {"chatgpt_plan_type": "plus", "chatgpt_account_id": account,
                                            "chatgpt_user_id": "user-e2e"},
        })
        auth = {
            "auth_mode": "chatgpt", "OPENAI_API_KEY": None,
            "tokens": {"id_token": id_token, "access_token": self.credential.value,
                       "refresh_token": "rt-e2e-" + secrets.token_hex(8), "account_id": account},
            "last_refresh": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
        }
        path = self.codex_home / "auth.json"
        path.write_text(json.dumps(auth, indent=2))
        path.chmod(0o600)

    def command(self, prompt: str, workdir: Path) -> list[str]:
        return [str(self.cli.executable), "exec", "--dangerously-bypass-approvals-and-sandbox",
                "--skip-git-repo-check", "-C", str(workdir), *self.extra_args, prompt]

    def environment(self) -> dict[str, str]:
        env = base_environment(self.home)
        env["CODEX_HOME"] = str(self.codex_home)
        if self.transport == "http" and self.credential.kind == "api_key":
            env["OPENAI_API_KEY"] = self.credential.value  # the custom provider's env_key
        return env


# --------------------------------------------------------------------------------------------
# mini-swe-agent


@dataclass
class MiniSweAgent:
    """``mini`` with its default (tool-call) config, its model an Anthropic one through litellm."""

    cli: InstalledAgent
    home: Path
    credential: Credential = field(default_factory=Credential.anthropic_api_key)
    model: str = "anthropic/claude-sonnet-4-5-20250929"
    config: str = "mini.yaml"
    """The built-in config to run (``mini_textbased.yaml`` for the text-framed one)."""
    name: str = "mini-swe-agent"

    @property
    def trajectory(self) -> Path:
        return self.home / "run.traj.json"

    def prepare(self, workdir: Path) -> None:
        (self.home / ".config" / "mini-swe-agent").mkdir(parents=True, exist_ok=True)

    def command(self, prompt: str, workdir: Path) -> list[str]:
        return [str(self.cli.executable), "-m", self.model, "-c", self.config, "-t", prompt,
                "-y", "--exit-immediately", "-l", "0", "-o", str(self.trajectory)]

    def environment(self) -> dict[str, str]:
        env = base_environment(self.home)
        env.update({
            "MSWEA_CONFIGURED": "true",  # else it asks for a model and key on first start
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # else litellm fetches its price list at import
            "ANTHROPIC_API_KEY": self.credential.value,
            "PYTHONUNBUFFERED": "1",
        })
        return env
