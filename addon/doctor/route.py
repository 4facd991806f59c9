"""Is the proxy where the environment points, is it Headroom, and does anything send agents
around it (NO_PROXY, a base URL in an agent's settings)?"""

from __future__ import annotations

import fnmatch
import json
import socket
import tomllib
from pathlib import Path

from headroom_mitm.addon.doctor.context import Context, Result
from headroom_mitm.addon.doctor.ports import holder_of
from headroom_mitm.addon.hosts import DEFAULT_PROVIDER_HOSTS, HostMatcher
from headroom_mitm.addon.pages.registry import fetch_through

_SHELL_FIX = ('open a new shell after headroom setup, or eval "$(headroom env)" in this one, '
              "or run the agent as headroom wrap AGENT")
_START_FIX = "start it: headroom proxy (or headroom setup --service, to start it at each login)"


def check_environment(context: Context) -> Result:
    variable = context.proxy_variable
    if variable is None:
        return Result("environment", False, "HTTPS_PROXY is not set in this shell: agents started here go "
                      f"straight to the providers (checking {context.proxy_url} below)", _SHELL_FIX)
    upper, lower = context.environ.get("HTTPS_PROXY"), context.environ.get("https_proxy")
    if upper and lower and upper != lower:
        return Result("environment", False, f"HTTPS_PROXY={upper} but https_proxy={lower}: curl follows one, "
                      "the others the other", _SHELL_FIX)
    return Result("environment", True, f"{variable}={context.proxy_url}")


def _listening(context: Context) -> bool:
    try:
        socket.create_connection(context.proxy_address, timeout=2).close()
    except OSError:
        return False
    return True


def check_proxy(context: Context) -> Result:
    host, port = context.proxy_address
    if not _listening(context):
        return Result("proxy", False, f"nothing listens on {host}:{port}", _START_FIX)
    if context.health is not None:
        health = context.health
        return Result("proxy", True, f"Headroom {health.get('version')} listens on {host}:{port} "
                      f"(mode {health.get('mode')}, up {health.get('uptime_s')} s)")
    holder = holder_of(port)
    who = f"held by {holder}" if holder else "held by a process this user cannot see"
    stop = f"stop it (kill {holder.pid})" if holder else "stop what holds it"
    return Result("proxy", False, f"{host}:{port} is {who}, which is not Headroom",
                  f"{stop}, or run Headroom on another port: HEADROOM_PORT={port + 1} headroom setup, "
                  "then open a new shell")


def check_status_page(context: Context) -> Result:
    if not _listening(context):
        return Result("status-page", None, "not checked: nothing listens there")
    if context.health is not None:
        return Result("status-page", True, f"http://headroom.invalid/health answered through {context.proxy_url}: "
                      "traffic sent there goes through Headroom")
    try:
        status, body = fetch_through(context.proxy_url, "/health")
        answer = f"answered {status}: {body[:80].decode(errors='replace').strip()!r}"
    except Exception as exc:  # whatever a foreign server does, say it
        answer = f"failed: {type(exc).__name__}: {exc}"
    return Result("status-page", False, f"a request for http://headroom.invalid/health through {context.proxy_url} "
                  f"{answer}; that is not the Headroom addon",
                  "if it is mitmproxy, start it with the addon: headroom proxy "
                  '(or mitmdump -s "$(headroom script)"); else ' + _START_FIX)


def check_no_proxy(context: Context) -> Result:
    providers = _provider_hosts(context)
    covered = []
    for variable in ("NO_PROXY", "no_proxy"):
        for entry in (context.environ.get(variable) or "").split(","):
            entry = entry.strip().lower()
            hosts = [host for host in providers if entry and _bypasses(entry, host)]
            if hosts:
                covered.append((variable, entry, hosts))
    if not covered:
        return Result("no-proxy", True, "NO_PROXY leaves every provider host to the proxy")
    variable, entry, hosts = covered[0]
    return Result("no-proxy", False, f"{variable} holds {entry!r}, which sends {', '.join(sorted(hosts))} "
                  "around the proxy", f"remove {entry!r} from NO_PROXY and no_proxy "
                  "(headroom env sets them to localhost,127.0.0.1,::1)")


def _bypasses(entry: str, host: str) -> bool:
    if entry == "*":
        return True
    entry = entry.lstrip("*").lstrip(".")
    return host == entry or host.endswith("." + entry)


def _provider_hosts(context: Context) -> list[str]:
    hosts = set(DEFAULT_PROVIDER_HOSTS)
    try:
        from headroom_mitm.rules import load_rules

        hosts |= {host for host in load_rules(context.rules_path).provider_hosts if "*" not in host}
    except Exception:  # a broken rules file is its own check
        pass
    return sorted(hosts)


_BASE_URL_VARIABLES = {"ANTHROPIC_BASE_URL": "Claude Code and the Anthropic SDKs",
                       "OPENAI_BASE_URL": "the OpenAI SDKs"}


def check_agent_settings(context: Context) -> list[Result]:
    """Settings that send an agent somewhere else: a base URL, or a proxy other than this one."""
    problems = []
    matcher = HostMatcher(_provider_hosts(context))
    for name, who in _BASE_URL_VARIABLES.items():
        value = context.environ.get(name)
        if value and not matcher(_host(value)):
            problems.append(Result("agent-route", False, f"{name}={value} in this shell sends {who} there, "
                                   "not to the provider through the proxy", f"unset {name}"))
    claude_home = Path(context.environ.get("CLAUDE_CONFIG_DIR") or context.home / ".claude")
    for settings in (claude_home / "settings.json", context.cwd / ".claude" / "settings.json",
                     context.cwd / ".claude" / "settings.local.json"):
        problems += _claude_settings(context, settings, matcher)
    problems += _codex_config(context)
    return problems or [Result("agent-route", True, "no agent setting sends requests around the proxy")]


def _claude_settings(context: Context, path: Path, matcher: HostMatcher) -> list[Result]:
    try:
        raw = path.read_text()
    except OSError:
        return []
    shown = context.shown(path)
    try:
        env = json.loads(raw).get("env") or {}
    except (ValueError, AttributeError) as exc:
        line = getattr(exc, "lineno", 1)
        return [Result("agent-route", False, f"{shown}:{line}: not valid JSON, so Claude Code cannot read it",
                       f"fix {shown} line {line}")]
    found = []
    base = env.get("ANTHROPIC_BASE_URL")
    if base and not matcher(_host(base)):
        found.append(Result("agent-route", False,
                            f"{shown}:{_line_of(raw, 'ANTHROPIC_BASE_URL')}: env sets ANTHROPIC_BASE_URL={base}: "
                            "Claude Code sends its requests there, not to api.anthropic.com through the proxy",
                            f"remove ANTHROPIC_BASE_URL from the env of {shown}"))
    proxy = env.get("HTTPS_PROXY") or env.get("https_proxy")
    if proxy and proxy.rstrip("/") != context.proxy_url.rstrip("/"):
        found.append(Result("agent-route", False,
                            f"{shown}:{_line_of(raw, 'HTTPS_PROXY')}: env sets HTTPS_PROXY={proxy}, "
                            f"not {context.proxy_url}", f"set it to {context.proxy_url} (headroom setup does)"))
    return found


def _codex_config(context: Context) -> list[Result]:
    path = Path(context.environ.get("CODEX_HOME") or context.home / ".codex") / "config.toml"
    try:
        config = tomllib.loads(path.read_text())
    except OSError:
        return []
    except tomllib.TOMLDecodeError as exc:
        return [Result("agent-route", False, f"{context.shown(path)}: {exc}", f"fix {context.shown(path)}")]
    found = []
    for key in ("openai_base_url", "chatgpt_base_url"):
        if config.get(key):
            found.append(Result("agent-route", False, f"{context.shown(path)} sets {key} = {config[key]!r}: Codex "
                                "sends its requests there", f"remove {key} from {context.shown(path)}"))
    provider = config.get("model_provider")
    base = ((config.get("model_providers") or {}).get(provider) or {}).get("base_url") if provider else None
    if base and not fnmatch.fnmatch(_host(base), "*.openai.com") and _host(base) != "chatgpt.com":
        found.append(Result("agent-route", False, f"{context.shown(path)}: model_provider {provider!r} has "
                            f"base_url {base!r}: Codex talks to it, not to OpenAI through the proxy",
                            f"remove model_provider from {context.shown(path)} (or add its host to your rules)"))
    return found


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url if "://" in url else f"https://{url}").hostname or "").lower()


def _line_of(raw: str, key: str) -> int:
    index = raw.find(f'"{key}"')
    return raw.count("\n", 0, index) + 1 if index >= 0 else 1
