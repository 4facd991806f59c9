"""Per credential: may its requests be rewritten, and did the provider object when they were?

The rules' ``credentials:`` list gives each request a policy (``keep``, ``verify``, ``rewrite``);
this module adds what only traffic can tell. It remembers, per credential (by digest, never the
secret), which billing bucket its unmodified requests count against, and trips a breaker for it
the first time a rewritten request is refused as third-party or billed to another bucket. A
tripped credential's requests pass unmodified from then on, this process and the next (the trip
is kept in the flow log).

Everything here runs on the event loop; the worker thread only reads a ``RewritePermit``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from headroom_mitm.addon.billing import BillingSignal
from headroom_mitm.addon.credentials import Credential
from headroom_mitm.addon.store.entries import BreakerTrip as Trip
from headroom_mitm.rules.credentials import CredentialPolicies, Policy, PolicyDecision

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gate:
    """Whether one body may be rewritten, and why (for the flow log and ``headroom stats``)."""

    policy: Policy
    rule: str
    rewrite: bool
    reason: str | None = None
    """Why the body goes unmodified, when it does: ``attested``, ``breaker``, ``verifying``."""


@dataclass(frozen=True)
class RewritePermit:
    """The two answers for a request, decided before its body is read: whether the body carries
    the client's attestation is only known once it is parsed, off the event loop."""

    attested: Gate
    unattested: Gate

    def for_body(self, attested: bool) -> Gate:
        return self.attested if attested else self.unattested


ALWAYS = RewritePermit(Gate("rewrite", "", True), Gate("rewrite", "", True))
"""For callers with no credential to protect (the offline ``headroom compress``)."""


@dataclass
class _CredentialState:
    answered_unmodified: bool = False
    baseline: str | None = None
    """The bucket of the latest unmodified request the provider billed."""
    tripped: Trip | None = None


class BillingGuard:
    """The breakers of every credential this proxy has seen."""

    def __init__(self) -> None:
        self._states: dict[str, _CredentialState] = {}

    def permit(self, credential: Credential, provider: str, policies: CredentialPolicies) -> RewritePermit:
        state = self._states.get(_key(credential, provider))
        return RewritePermit(
            attested=self._gate(policies.decide(provider, credential.kind, True), state, attested=True),
            unattested=self._gate(policies.decide(provider, credential.kind, False), state, attested=False),
        )

    @staticmethod
    def _gate(decision: PolicyDecision, state: _CredentialState | None, attested: bool) -> Gate:
        if decision.policy == "keep":
            return Gate("keep", decision.rule, False, "attested" if attested else "policy")
        if state is not None and state.tripped is not None:
            return Gate(decision.policy, decision.rule, False, "breaker")
        if decision.policy == "verify" and (state is None or not state.answered_unmodified):
            return Gate("verify", decision.rule, False, "verifying")
        return Gate(decision.policy, decision.rule, True)

    def observe(self, credential: Credential, provider: str, *, rewritten: bool, status: int | None,
                signal: BillingSignal | None, refusal: str | None) -> Trip | None:
        """What the provider answered one request; returns the trip this answer caused, if any."""
        state = self._states.setdefault(_key(credential, provider), _CredentialState())
        if state.tripped is not None:
            return None
        bucket = signal.bucket if signal is not None else None
        if not rewritten:
            if status is not None and 200 <= status < 300:
                state.answered_unmodified = True
                state.baseline = bucket or state.baseline
            return None
        reason = None
        if refusal:
            reason = f"the provider refused a rewritten request: {refusal}"
        elif bucket and state.baseline and bucket != state.baseline:
            reason = (f"the provider billed a rewritten request to {bucket!r}, "
                      f"its unmodified requests to {state.baseline!r}")
        if reason is None:
            return None
        state.tripped = Trip(credential.id or credential.kind, credential.kind, provider, reason,
                             datetime.now(timezone.utc))
        _announce(state.tripped)
        return state.tripped

    def restore(self, trips: list[Trip]) -> None:
        """Breakers tripped in an earlier run, from the flow log: they stay tripped."""
        for trip in trips:
            self._states.setdefault(f"{trip.provider}:{trip.credential_id}", _CredentialState()).tripped = trip

    def tripped(self) -> list[Trip]:
        return [state.tripped for state in self._states.values() if state.tripped is not None]

    def health(self) -> dict[str, object]:
        """The ``breakers`` section of ``/health``: a tripped breaker makes the proxy ``degraded``."""
        trips = self.tripped()
        return {"ok": not trips, "tripped": [trip.as_dict() for trip in trips]}


def _key(credential: Credential, provider: str) -> str:
    return f"{provider}:{credential.id or credential.kind}"


def _announce(trip: Trip) -> None:
    logger.warning(
        "\n  headroom: STOPPED rewriting requests of %s credential %s (%s).\n"
        "  Why: %s.\n"
        "  Its requests now go upstream exactly as the client sends them, in this run and the next;\n"
        "  `headroom doctor` explains, `headroom breaker reset %s` re-arms it.",
        trip.credential_kind, trip.credential_id, trip.provider, trip.reason.rstrip("."), trip.credential_id,
    )
