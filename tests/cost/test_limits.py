"""Budgets and rate limits: parsed once with a clear error, counted per period and minute."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from mitmproxy import exceptions

from headroom_mitm.addon.cost.limits import Limits, parse_budgets, parse_rates, refusal_body
from headroom_mitm.addon.cost.options import limits_from

NOON = datetime(2026, 12, 2, 12, 30, tzinfo=timezone.utc)


def test_a_budget_refuses_once_spent_until_the_period_ends() -> None:
    limits = Limits(parse_budgets(["anthropic:1/day"]))
    assert limits.check("anthropic", 100, NOON, 0.0) is None
    limits.spend("anthropic", 0.6, NOON)
    assert limits.check("anthropic", 100, NOON, 1.0) is None
    limits.spend("anthropic", 0.4, NOON)
    refusal = limits.check("anthropic", 100, NOON, 2.0)
    assert refusal is not None and "budget $1/day for anthropic reached" in refusal.reason
    assert refusal.retry_after_s == 11 * 3600 + 30 * 60  # until midnight UTC
    assert limits.check("openai-chat", 100, NOON, 3.0) is None  # another provider's budget is not touched
    tomorrow = NOON.replace(day=3, hour=0, minute=1)
    assert limits.check("anthropic", 100, tomorrow, 4.0) is None


def test_openai_covers_both_of_its_wire_formats_and_a_total_covers_all() -> None:
    limits = Limits(parse_budgets(["openai:0.5/hour", "2/month"]))
    limits.spend("openai-chat", 0.5, NOON)
    assert limits.check("openai-responses", 1, NOON, 0.0) is not None
    assert limits.check("anthropic", 1, NOON, 0.0) is None
    limits.spend("anthropic", 1.5, NOON)
    refusal = limits.check("gemini", 1, NOON, 0.0)
    assert refusal is not None and "$2/month" in refusal.reason


def test_requests_and_tokens_per_minute_slide() -> None:
    limits = Limits(rpm=parse_rates("headroom_rpm", ["2"]), tpm=parse_rates("headroom_tpm", ["anthropic:1000"]))
    assert limits.check("openai-chat", 10, NOON, 0.0) is None
    assert limits.check("openai-chat", 10, NOON, 10.0) is None
    refusal = limits.check("openai-chat", 10, NOON, 20.0)
    assert refusal is not None and refusal.reason == "2 requests per minute reached" and refusal.retry_after_s == 40
    assert limits.check("openai-chat", 10, NOON, 60.5) is None  # the first left the window
    limits = Limits(tpm=parse_rates("headroom_tpm", ["anthropic:1000"]))
    assert limits.check("anthropic", 900, NOON, 0.0) is None
    refusal = limits.check("anthropic", 200, NOON, 5.0)
    assert refusal is not None and refusal.reason == "1000 tokens per minute for anthropic reached"


def test_a_seeded_log_counts_against_the_budget() -> None:
    limits = Limits(parse_budgets(["1/hour"]))
    limits.seed([(NOON.replace(minute=5), "anthropic", 1.2)])
    assert limits.check("anthropic", 1, NOON, 0.0) is not None
    limits.seed([(NOON.replace(hour=11), "anthropic", 1.2)])  # an earlier hour
    assert limits.check("anthropic", 1, NOON, 0.0) is None


@pytest.mark.parametrize("option, value", [("headroom_budget", "5 dollars"), ("headroom_budget", "0/day"),
                                           ("headroom_budget", "5/week"), ("headroom_rpm", "fast"),
                                           ("headroom_tpm", "anthropic:-3")])
def test_a_bad_value_names_the_option_and_the_form(option: str, value: str) -> None:
    args = {"headroom_budget": [], "headroom_rpm": [], "headroom_tpm": []}
    args[option] = [value]
    with pytest.raises(exceptions.OptionsError, match=rf"{option}='{value}'"):
        limits_from(args["headroom_budget"], args["headroom_rpm"], args["headroom_tpm"])


@pytest.mark.parametrize("provider, shape", [
    ("anthropic", {"type": "error", "error": {"type": "rate_limit_error"}}),
    ("openai-chat", {"error": {"code": "rate_limit_exceeded"}}),
    ("gemini", {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}),
])
def test_the_429_speaks_the_providers_error_format(provider: str, shape: dict) -> None:
    from headroom_mitm.addon.cost.limits import Refusal

    body, headers = refusal_body(provider, Refusal("2 requests per minute reached", 17))
    doc = json.loads(body)
    for key, value in shape.items():
        assert isinstance(value, str) and doc[key] == value or all(doc[key][k] == v for k, v in value.items())
    assert headers["retry-after"] == "17"
    assert "2 requests per minute reached" in body.decode()
