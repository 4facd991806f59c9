"""Which hosts are LLM providers: the only traffic the addon ever looks at."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any

# Always intercepted; a rules file can add more (self-hosted gateways, Azure deployments...).
DEFAULT_PROVIDER_HOSTS: frozenset[str] = frozenset(
    {
        "api.anthropic.com",
        "api.openai.com",
        "chatgpt.com",
        "generativelanguage.googleapis.com",
        "openrouter.ai",
    }
)


def normalize_host(host: str) -> str:
    """Host names compare case-insensitively and without a trailing root dot or port."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):
        return host  # IPv6 literal: never a provider name
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class HostMatcher:
    """Matches a host name against exact names and globs such as ``*.openai.azure.com``."""

    def __init__(self, patterns: Iterable[str]) -> None:
        normalized = {normalize_host(p) for p in patterns if p and p.strip()}
        self._exact = frozenset(p for p in normalized if not _is_glob(p))
        self._globs = tuple(sorted(p for p in normalized if _is_glob(p)))

    @property
    def patterns(self) -> frozenset[str]:
        return self._exact | frozenset(self._globs)

    def __call__(self, host: str | None) -> bool:
        if not host:
            return False
        host = normalize_host(host)
        if host in self._exact:
            return True
        return any(fnmatch.fnmatchcase(host, glob) for glob in self._globs)


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def destination_host(flow: Any) -> str:
    """The host a flow really goes to: the name its TLS connection was opened for (SNI, which
    the upstream certificate is checked against), else the host mitmproxy connects to.

    Never the Host header alone: a plain-HTTP request to ``127.0.0.1`` that says
    ``Host: api.anthropic.com`` is not a provider call.
    """
    client = flow.client_conn
    if client.tls and client.sni:
        return str(client.sni)
    return str(flow.request.host)
