"""One real agent run against a scripted fake provider, and everything the fake saw during it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from ..fake_provider import FakeProvider, RecordedRequest, RecordedWebSocketMessage
from ..scripted_model import ModelScript, TurnSource
from .clis import RUN_TIMEOUT_S, Agent, AgentRun, proxy_env, run_agent

if TYPE_CHECKING:
    from ..conftest import Proxy

__all__ = ["AgentSession", "run_session", "env_for"]


def env_for(proxy: "Proxy") -> dict[str, str]:
    """The variables that route an agent through ``proxy`` and make it trust mitmproxy's CA."""
    return proxy_env(proxy.url, proxy.process.mitmproxy_ca, proxy.ca_bundle)


@dataclass
class AgentSession:
    """What happened: the agent's process, the script's exchanges, the fake's recordings."""

    agent: Agent
    run: AgentRun
    script: ModelScript
    proxy: "Proxy | None"
    workdir: Path
    requests: list[RecordedRequest]
    ws_messages: list[RecordedWebSocketMessage]

    def conversation_requests(self, route: str) -> list[RecordedRequest]:
        """HTTP requests to ``route`` (e.g. ``/v1/messages``) whose body the script answered."""
        return [request for request in self.requests if request.route == route and request.body]

    def describe(self) -> str:
        seen = "\n".join(f"  {r.method} {r.host}{r.path}" for r in self.requests)
        text = (f"{self.run.describe()}\n----- the fake provider saw -----\n{seen}\n"
                f"  and {len(self.ws_messages)} WebSocket messages; the script answered "
                f"{[e.turn_index for e in self.script.exchanges]} (turn per request)")
        if self.proxy is not None:
            text += f"\n----- mitmdump output -----\n{self.proxy.output()}"
        return text


def run_session(
    fake: FakeProvider, agent: Agent, prompt: str, workdir: Path, *,
    turns: Sequence[TurnSource], proxy: "Proxy | None",
    extra_env: Mapping[str, str] = {}, timeout: float = RUN_TIMEOUT_S, wrap: Sequence[str] = (),
) -> AgentSession:
    """Script the fake with ``turns``, run ``agent`` on ``prompt`` through ``proxy``, record it all.

    The fake's earlier recordings are forgotten first. ``proxy=None`` sets no proxy variables
    (for a caller that routes the agent itself, through ``wrap`` or ``extra_env``).
    """
    fake.reset()
    script = fake.use_script(ModelScript(list(turns)))
    env = {**(env_for(proxy) if proxy is not None else {}), **extra_env}
    run: AgentRun = run_agent(agent, prompt, workdir, extra_env=env, timeout=timeout, wrap=wrap)
    return AgentSession(agent, run, script, proxy, workdir, fake.requests, fake.ws_messages)
