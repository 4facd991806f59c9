"""Billed dollars through a real mitmdump: the fake provider's usage (its SSE too) lands in the
flow row at the table's prices, and ``headroom stats --json`` and ``/metrics`` say the same."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from . import payloads
from .clients import anthropic_client, openai_client
from .conftest import Proxy
from .fake_provider import FakeProvider
from .harness import wait_for_rows

pytestmark = pytest.mark.e2e


def _page(proxy: Proxy, path: str) -> httpx.Response:
    with httpx.Client(proxy=proxy.url, verify=ssl.create_default_context(cafile=proxy.ca_bundle),
                      timeout=10, trust_env=False) as client:
        return client.get(f"http://headroom.invalid{path}")


def _metric_sum(text: str, name: str) -> float:
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples if sample.name == name)


def test_usage_lands_as_billed_dollars_and_every_page_agrees(proxy: Proxy, fake: FakeProvider) -> None:
    anthropic, _ = anthropic_client()
    with anthropic.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=payloads.anthropic_messages(),
                                   tools=payloads.ANTHROPIC_RETRIEVE) as stream:
        stream.get_final_text()
    anthropic.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=payloads.anthropic_messages(),
                              tools=payloads.ANTHROPIC_RETRIEVE)
    openai, _ = openai_client()
    openai.chat.completions.create(model="gpt-4.1", messages=payloads.openai_chat_messages())
    openai.chat.completions.create(model="a-model-without-a-price", messages=payloads.openai_chat_messages())
    rows = {row["model"]: row for row in wait_for_rows(proxy.db_path, "flows", 4)}

    # the fake bills 1234 input, 789 cache read, 321 cache write (5 minutes), 56 output
    haiku = rows["claude-haiku-4-5"]
    assert (haiku["usage_input"], haiku["usage_cache_read"], haiku["usage_cache_write"], haiku["usage_output"]) == (
        1234, 789, 321, 56)
    assert haiku["cost_usd"] == pytest.approx((1234 * 1.00 + 789 * 0.10 + 321 * 1.25 + 56 * 5.00) / 1e6)
    assert rows["claude-sonnet-4-5"]["cost_usd"] == pytest.approx((1234 * 3 + 789 * 0.30 + 321 * 3.75 + 56 * 15) / 1e6)
    # OpenAI: 2345 prompt tokens of which 1024 cached, 67 completion
    assert rows["gpt-4.1"]["cost_usd"] == pytest.approx(((2345 - 1024) * 2.00 + 1024 * 0.50 + 67 * 8.00) / 1e6)
    assert rows["claude-haiku-4-5"]["price_checked"] == "2026-12-02"
    unpriced = rows["a-model-without-a-price"]
    assert unpriced["usage_input"] and unpriced["cost_usd"] is None and unpriced["saved_usd"] is None

    logged_billed = sum(row["cost_usd"] or 0 for row in rows.values())
    logged_saved = sum(row["saved_usd"] or 0 for row in rows.values())
    command = subprocess.run([sys.executable, "-m", "headroom_mitm.addon.cli", "stats", str(proxy.db_path), "--json"],
                             capture_output=True, text=True, check=True)
    total = json.loads(command.stdout)["total"]
    assert total["cost_usd"] == pytest.approx(logged_billed, abs=1e-6)
    assert total["saved_usd"] == pytest.approx(logged_saved, abs=1e-6)
    assert total["unpriced"] == 1
    assert _page(proxy, "/stats").json()["total"] == total
    metrics = _page(proxy, "/metrics").text
    assert _metric_sum(metrics, "headroom_billed_usd_total") == pytest.approx(logged_billed)
    assert _metric_sum(metrics, "headroom_saved_usd") == pytest.approx(logged_saved)
    assert _metric_sum(metrics, "headroom_unpriced_requests_total") == 1


def test_over_a_budget_the_anthropic_sdk_raises_its_rate_limit_error(start_proxy, fake: FakeProvider) -> None:
    import anthropic as anthropic_sdk

    # one Sonnet answer of the fake costs about $0.006: the budget is spent after it
    proxy = start_proxy(options={"headroom_budget": "anthropic:0.005/day"})
    client, _ = anthropic_client()
    client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=payloads.anthropic_messages())
    wait_for_rows(proxy.db_path, "flows", 1)
    upstream = len(fake.requests)
    with pytest.raises(anthropic_sdk.RateLimitError) as refused:
        client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=payloads.anthropic_messages())
    assert refused.value.status_code == 429
    retry_after = int(refused.value.response.headers["retry-after"])
    assert 0 < retry_after <= 86400
    assert "budget $0.005/day for anthropic reached" in str(refused.value)
    assert len(fake.requests) == upstream, "a refused request went upstream"
    row = wait_for_rows(proxy.db_path, "flows", 2)[-1]
    assert row["status_code"] == 429 and "budget $0.005/day for anthropic reached" in row["limited"]
    # another provider has no budget
    openai, _ = openai_client()
    openai.chat.completions.create(model="gpt-4.1", messages=payloads.openai_chat_messages())


def test_over_requests_per_minute_the_openai_sdk_raises_its_rate_limit_error(start_proxy, fake: FakeProvider) -> None:
    import openai as openai_sdk

    proxy = start_proxy(options={"headroom_rpm": "openai:1"})
    client, _ = openai_client()
    client.chat.completions.create(model="gpt-4.1", messages=payloads.openai_chat_messages())
    with pytest.raises(openai_sdk.RateLimitError) as refused:
        client.chat.completions.create(model="gpt-4.1", messages=payloads.openai_chat_messages())
    assert refused.value.code == "rate_limit_exceeded"
    assert 0 < int(refused.value.response.headers["retry-after"]) <= 60
    rows = wait_for_rows(proxy.db_path, "flows", 2)
    assert [row["status_code"] for row in rows] == [200, 429]
    assert rows[1]["limited"] == "1 requests per minute for openai reached"


def test_limits_are_off_by_default(proxy: Proxy, fake: FakeProvider) -> None:
    client, _ = openai_client()
    for _ in range(5):
        client.chat.completions.create(model="gpt-4.1", messages=payloads.openai_chat_messages())
    assert all(row["limited"] is None and row["status_code"] == 200
               for row in wait_for_rows(proxy.db_path, "flows", 5))
