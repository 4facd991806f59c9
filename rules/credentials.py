"""How far the proxy may go with a request, by the credential it carries: the ``credentials:`` list.

A client can attest its own body (Claude Code puts ``x-anthropic-billing-header: ... cch=...;``
at the top of its system prompt, a value computed over the body it sends). A rewritten body no
longer matches it, and a subscription request the provider does not take for the client's own may
be refused or billed as extra usage. The proxy never computes an attestation for a body the client
did not send; instead each request gets one of three policies:

``keep``
    forward the body byte for byte; its tool outputs are still logged and learned from.
``verify``
    rewrite, but only once an unmodified request of the same credential has shown which billing
    bucket it counts against; stop rewriting for that credential at the first refusal or the first
    rewritten request billed to another bucket.
``rewrite``
    rewrite; stop for that credential only when the provider refuses a rewritten request.

Entries are tried in order, first match wins, like ``rules:``. The shipped entries always follow a
file's own, even in a file that replaces the default: a rule file can loosen them only by saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CredentialKind = Literal["api_key", "subscription", "none"]
CREDENTIAL_KINDS: tuple[CredentialKind, ...] = ("api_key", "subscription", "none")
Policy = Literal["keep", "verify", "rewrite"]
POLICIES: tuple[Policy, ...] = ("keep", "verify", "rewrite")


@dataclass(frozen=True)
class CredentialRuleSpec:
    """One entry of ``credentials:`` as written; ``None`` for a condition it does not set."""

    line: int
    name: str
    policy: Policy
    provider: tuple[str, ...] | None = None
    credential: tuple[CredentialKind, ...] | None = None
    attested: bool | None = None


@dataclass(frozen=True)
class CredentialRule:
    spec: CredentialRuleSpec
    source: str

    @property
    def label(self) -> str:
        return f"{self.source}:{self.spec.line} ({self.spec.name})"

    def matches(self, provider: str, credential: CredentialKind, attested: bool) -> bool:
        s = self.spec
        return ((s.provider is None or provider in s.provider)
                and (s.credential is None or credential in s.credential)
                and (s.attested is None or attested == s.attested))


@dataclass(frozen=True)
class PolicyDecision:
    policy: Policy
    rule: str
    """Where it comes from, readable: ``default.yaml:12 (attested-subscriptions)``."""


FALLBACK = PolicyDecision("keep", "no credentials entry matched")
"""Never reached with the shipped entries (their last one matches everything); the safe answer."""


@dataclass(frozen=True)
class CredentialPolicies:
    rules: tuple[CredentialRule, ...] = ()

    def decide(self, provider: str, credential: CredentialKind, attested: bool) -> PolicyDecision:
        for rule in self.rules:
            if rule.matches(provider, credential, attested):
                return PolicyDecision(rule.spec.policy, rule.label)
        return FALLBACK
