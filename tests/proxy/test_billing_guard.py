"""The breaker: per credential, rewriting stops at the first sign the provider objects."""

from __future__ import annotations

import logging

from headroom_mitm.addon.billing import BillingSignal
from headroom_mitm.addon.billing_guard import BillingGuard
from headroom_mitm.addon.credentials import Credential
from headroom_mitm.rules import load_rules

LOGIN = Credential("subscription", "1a2b3c4d5e6f7a8b")
OTHER_LOGIN = Credential("subscription", "0000111122223333")
KEY = Credential("api_key", "9f8e7d6c5b4a3210")
POLICIES = load_rules(None).credentials
PLAN = BillingSignal(bucket="five_hour", status="allowed")
OVERAGE = BillingSignal(bucket="overage", status="rejected")


def _unattested(guard: BillingGuard, credential: Credential = LOGIN, provider: str = "openai-responses"):
    return guard.permit(credential, provider, POLICIES).for_body(attested=False)


def test_verify_rewrites_only_after_an_unmodified_request_was_answered() -> None:
    guard = BillingGuard()
    assert (_unattested(guard).rewrite, _unattested(guard).reason) == (False, "verifying")
    guard.observe(LOGIN, "openai-responses", rewritten=False, status=500, signal=None, refusal=None)
    assert _unattested(guard).rewrite is False  # an error proves nothing
    guard.observe(LOGIN, "openai-responses", rewritten=False, status=200, signal=PLAN, refusal=None)
    assert _unattested(guard).rewrite is True
    assert _unattested(guard, OTHER_LOGIN).rewrite is False  # per credential


def test_attested_subscription_bodies_are_kept_and_api_keys_rewritten() -> None:
    guard = BillingGuard()
    kept = guard.permit(LOGIN, "anthropic", POLICIES).for_body(attested=True)
    assert (kept.policy, kept.rewrite, kept.reason) == ("keep", False, "attested")
    assert guard.permit(KEY, "anthropic", POLICIES).for_body(attested=True).rewrite is True


def test_a_refusal_of_a_rewritten_request_trips_the_breaker_once_and_loudly(caplog) -> None:
    guard = BillingGuard()
    guard.observe(LOGIN, "openai-responses", rewritten=False, status=200, signal=PLAN, refusal=None)
    with caplog.at_level(logging.WARNING):
        trip = guard.observe(LOGIN, "openai-responses", rewritten=True, status=400, signal=None,
                             refusal="Third-party apps now draw from your extra usage")
        again = guard.observe(LOGIN, "openai-responses", rewritten=True, status=400, signal=None,
                              refusal="Third-party apps now draw from your extra usage")
    assert trip is not None and again is None
    assert "Third-party apps" in trip.reason and trip.credential_id == LOGIN.id
    assert sum("STOPPED rewriting" in r.getMessage() for r in caplog.records) == 1
    gate = _unattested(guard)
    assert (gate.rewrite, gate.reason) == (False, "breaker")
    assert [t.credential_id for t in guard.tripped()] == [LOGIN.id]


def test_a_rewritten_request_billed_to_another_bucket_trips_it() -> None:
    guard = BillingGuard()
    guard.observe(LOGIN, "anthropic", rewritten=False, status=200, signal=PLAN, refusal=None)
    assert guard.observe(LOGIN, "anthropic", rewritten=True, status=200, signal=PLAN, refusal=None) is None
    trip = guard.observe(LOGIN, "anthropic", rewritten=True, status=200, signal=OVERAGE, refusal=None)
    assert trip is not None and "'overage'" in trip.reason


def test_a_bucket_the_unmodified_requests_share_is_no_sign_of_trouble() -> None:
    guard = BillingGuard()
    guard.observe(LOGIN, "anthropic", rewritten=False, status=200, signal=OVERAGE, refusal=None)
    assert guard.observe(LOGIN, "anthropic", rewritten=True, status=200, signal=OVERAGE, refusal=None) is None
    assert guard.observe(KEY, "anthropic", rewritten=True, status=200, signal=None, refusal=None) is None


def test_tripped_breakers_come_back_from_the_log() -> None:
    first = BillingGuard()
    first.observe(LOGIN, "anthropic", rewritten=True, status=400, signal=None, refusal="out of extra usage")
    second = BillingGuard()
    second.restore(first.tripped())
    assert second.permit(LOGIN, "anthropic", POLICIES).for_body(attested=False).reason == "breaker"
    assert second.permit(OTHER_LOGIN, "anthropic", POLICIES).for_body(attested=False).reason == "verifying"
