"""What kind of credential a request carries, and a stable name for it that is not the secret.

The kind decides how far the proxy may go with a body (see ``rules`` ``credentials:``): a
subscription login (Claude Pro/Max through Claude Code's OAuth, ChatGPT through Codex) is billed
against a plan the provider protects from third-party clients, an API key per token. The name is
a short digest, so the flow log and the breaker can tell credentials apart without ever holding one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, Mapping

CredentialKind = Literal["api_key", "subscription", "none"]
CREDENTIAL_KINDS: tuple[CredentialKind, ...] = ("api_key", "subscription", "none")

# Anthropic's OAuth access tokens (Claude Code with a Pro/Max login, CLAUDE_CODE_OAUTH_TOKEN).
_ANTHROPIC_OAUTH_PREFIX = "sk-ant-oat"
# Google's OAuth access tokens, as a Google login sends them instead of an API key.
_GOOGLE_OAUTH_PREFIX = "ya29."
# The ChatGPT backend Codex uses with a ChatGPT login: only subscription tokens reach it.
_SUBSCRIPTION_HOSTS = frozenset({"chatgpt.com"})


@dataclass(frozen=True)
class Credential:
    kind: CredentialKind
    id: str | None = None
    """sha256 of the secret, first 16 hex digits; None when the request carries none."""

    @property
    def label(self) -> str:
        return f"{self.kind} {self.id}" if self.id else self.kind


NO_CREDENTIAL = Credential("none")


def classify(headers: Mapping[str, str], host: str, query: Mapping[str, str] | None = None) -> Credential:
    """The credential of a request from its headers (and Gemini's ``?key=``). Never raises."""
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    for name in ("x-api-key", "x-goog-api-key", "api-key"):
        if lowered.get(name, "").strip():
            return Credential("api_key", credential_id(lowered[name].strip()))
    scheme, _, token = lowered.get("authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token:
        return Credential(_bearer_kind(token, host, lowered), credential_id(token))
    for name in ("key", "api_key"):
        value = (query or {}).get(name, "")
        if value:
            return Credential("api_key", credential_id(value))
    return NO_CREDENTIAL


def credential_id(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _bearer_kind(token: str, host: str, headers: Mapping[str, str]) -> CredentialKind:
    if token.startswith((_ANTHROPIC_OAUTH_PREFIX, _GOOGLE_OAUTH_PREFIX)):
        return "subscription"
    # Claude Code announces an OAuth login in its beta list whatever the token looks like.
    if any(beta.strip().startswith("oauth-") for beta in headers.get("anthropic-beta", "").split(",")):
        return "subscription"
    if host.lower().rstrip(".") in _SUBSCRIPTION_HOSTS:
        return "subscription"
    return "api_key"
