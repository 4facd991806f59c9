"""What a provider's answer says it billed, and whether it refused a request as third-party."""

from __future__ import annotations

import json

import pytest

from headroom_mitm.addon.billing import (
    billing_from_codex_event,
    billing_from_headers,
    refusal_in,
    refusal_in_event,
)

# Anthropic's answers to a subscription request, as reported (names and values)
PLAN = [("Anthropic-Ratelimit-Unified-Status", "allowed"),
        ("anthropic-ratelimit-unified-representative-claim", "five_hour"),
        ("anthropic-ratelimit-unified-5h-utilization", "0.42"),
        ("content-type", "text/event-stream"), ("request-id", "req_011")]
OVERAGE = [("anthropic-ratelimit-unified-status", "rejected"),
           ("anthropic-ratelimit-unified-5h-status", "rejected"),
           ("anthropic-ratelimit-unified-overage-status", "allowed"),
           ("anthropic-ratelimit-unified-representative-claim", "five_hour")]
REFUSED_PLAN = [("anthropic-ratelimit-unified-status", "rejected"),
                ("anthropic-ratelimit-unified-overage-status", "rejected"),
                ("anthropic-ratelimit-unified-representative-claim", "seven_day")]


def test_the_claim_a_plan_request_counted_against() -> None:
    signal = billing_from_headers(PLAN)
    assert (signal.bucket, signal.status) == ("five_hour", "allowed")
    assert set(signal.headers) == {"anthropic-ratelimit-unified-status",
                                   "anthropic-ratelimit-unified-representative-claim",
                                   "anthropic-ratelimit-unified-5h-utilization"}


def test_a_request_the_plan_refused_and_extra_usage_paid_is_overage() -> None:
    assert billing_from_headers(OVERAGE).bucket == "overage"
    assert billing_from_headers(REFUSED_PLAN).bucket == "seven_day"  # nobody paid: not overage


def test_codex_plan_windows_and_api_keys() -> None:
    assert billing_from_headers([("x-codex-primary-used-percent", "42.5")]).bucket == "codex"
    assert billing_from_headers([("x-codex-active-limit", "codex_other"),
                                 ("x-codex-primary-used-percent", "1")]).bucket == "codex_other"
    api_key = billing_from_headers([("anthropic-ratelimit-tokens-remaining", "90000")])
    assert api_key.bucket is None and api_key.headers  # recorded, but names no plan


def test_codex_rate_limit_event() -> None:
    allowed = billing_from_codex_event({"type": "codex.rate_limits", "plan_type": "plus",
                                        "rate_limits": {"allowed": True, "limit_reached": False}})
    reached = billing_from_codex_event({"type": "codex.rate_limits",
                                        "rate_limits": {"allowed": False, "limit_reached": True}})
    assert (allowed.bucket, allowed.headers["codex.plan_type"]) == ("codex", "plus")
    assert (reached.bucket, reached.status) == ("limit_reached", "rejected")
    assert billing_from_codex_event({"type": "response.created"}) is None


THIRD_PARTY = json.dumps({"type": "error", "error": {"type": "invalid_request_error", "message":
    "Third-party apps now draw from your extra usage, not your plan limits. We've added a $100 credit"
    " to get you started. Claim it at claude.ai/settings/usage and keep going."}})


@pytest.mark.parametrize("status, body, refused", [
    (400, THIRD_PARTY, True),
    (400, '{"error": {"message": "You\'re out of extra usage. Add more at claude.ai/settings/usage"}}', True),
    (403, "Third-party applications are not allowed", True),
    (429, THIRD_PARTY, False),  # a rate limit, whatever it says
    (400, '{"error": {"type": "invalid_request_error", "message": "max_tokens: too large"}}', False),
    (200, THIRD_PARTY, False),
    (400, b"", False),
])
def test_refusals(status, body, refused) -> None:
    found = refusal_in(status, body.encode() if isinstance(body, str) else body)
    assert bool(found) is refused
    if refused:
        assert "extra usage" in found or "hird-party" in found


def test_refusal_of_a_socket_turn() -> None:
    assert refusal_in_event({"type": "error", "status": 400,
                             "error": {"message": "Third-party apps are not allowed"}})
    assert refusal_in_event({"type": "response.failed", "response": {"error": {
        "message": "out of extra usage"}}})
    assert refusal_in_event({"type": "error", "status": 500, "error": {"message": "overloaded"}}) is None
    assert refusal_in_event({"type": "response.completed"}) is None
