"""Billed dollars from real Claude Code usage, checked against sums done by hand."""

from __future__ import annotations

import pytest

from headroom_mitm.rules import load_rules

from replay import replay
from shared_data import data_required
from trace_bodies import claude_code_trace_files, shared_data_dir

# under .ci/run (HEADROOM_TESTS_NEED_DATA) they run, and fail without the data
pytestmark = pytest.mark.skipif(shared_data_dir() is None and not data_required(),
                                reason="../shared/data is not beside the checkout")


def _trace(name: str):
    return next(path for path in claude_code_trace_files() if path.name == name)


def test_billed_cost_of_real_requests_matches_a_hand_computation() -> None:
    flows = list(replay(_trace("tool_heavy.jsonl"), load_rules()))
    first = flows[0]
    # claude-opus-4-6: $5 input, $25 output, $0.50 cache read, $10 1-hour cache write per MTok
    assert first.usage["input_tokens"] == 3
    assert (first.usage["cache_read_input_tokens"], first.usage["cache_creation_input_tokens"]) == (17915, 7883)
    assert first.usage["cache_creation"]["ephemeral_1h_input_tokens"] == 7883
    assert first.entry.usage_cache_write_1h == 7883
    assert first.usage["output_tokens"] == 27
    hand = (3 * 5.00 + 17915 * 0.50 + 7883 * 10.00 + 27 * 25.00) / 1e6  # 15 + 8957.5 + 78830 + 675
    assert first.entry.cost_usd == pytest.approx(hand, abs=1e-9)
    assert first.entry.cost_usd == pytest.approx(0.0884775, abs=1e-9)
    # the next request: 1 input, 25798 read, 208 written for an hour, 1 output
    second = flows[1]
    assert second.entry.cost_usd == pytest.approx((1 * 5.00 + 25798 * 0.50 + 208 * 10.00 + 1 * 25.00) / 1e6, abs=1e-9)
    assert second.entry.cost_usd == pytest.approx(0.015009, abs=1e-9)
    assert first.entry.price_checked == "2026-12-02"


def test_5_minute_writes_are_billed_at_the_5_minute_rate() -> None:
    # a compaction request of Opus 4.6 whose cache writes have the 5-minute lifetime
    (flow,) = list(replay(_trace("agent-acompact-e1f845.jsonl"), load_rules()))
    assert flow.usage["cache_creation"] == {"ephemeral_5m_input_tokens": 8681, "ephemeral_1h_input_tokens": 0}
    hand = (3 * 5.00 + 164830 * 0.50 + 8681 * 6.25 + 8 * 25.00) / 1e6  # = $0.13678125
    assert flow.entry.cost_usd == pytest.approx(hand, abs=1e-9)


def test_haiku_and_sonnet_requests_use_their_own_prices() -> None:
    haiku = list(replay(_trace("agent-a7be2f0.jsonl"), load_rules()))[-1]
    assert haiku.entry.model == "claude-haiku-4-5-20251001"
    u = haiku.usage
    hand = (u["input_tokens"] * 1.00 + u["cache_read_input_tokens"] * 0.10
            + u["cache_creation"]["ephemeral_1h_input_tokens"] * 2.00
            + u["cache_creation"]["ephemeral_5m_input_tokens"] * 1.25 + u["output_tokens"] * 5.00) / 1e6
    assert (u["cache_read_input_tokens"], u["cache_creation_input_tokens"]) == (28110, 955)
    assert haiku.entry.cost_usd == pytest.approx(hand, abs=1e-9)
    assert haiku.entry.cost_usd == pytest.approx((28110 * 0.10 + 955 * 2.00 + 1 * 5.00) / 1e6, abs=1e-9)


def test_a_model_without_a_price_is_unknown_not_guessed() -> None:
    from dataclasses import replace

    from headroom_mitm.addon.cost.flow_cost import CostKeeper
    from headroom_mitm.rules.prices import PriceTable

    keeper = CostKeeper(PriceTable({}))
    (flow,) = list(replay(_trace("short.jsonl"), load_rules(), keeper=keeper))
    assert flow.entry.usage_cache_read == 11515  # the usage is logged ...
    assert flow.entry.cost_usd is None and flow.entry.saved_usd is None  # ... its price is not made up


def test_savings_on_a_whole_session_are_priced_below_what_was_billed() -> None:
    flows = list(replay(_trace("8463c716-a2ea-4c14-9efa-87158ebd9f20.jsonl"), load_rules()))
    billed = sum(f.entry.cost_usd or 0 for f in flows)
    saved = sum(f.entry.saved_usd or 0 for f in flows)
    compressed = [f for f in flows if f.entry.tool_outputs_rewritten]
    assert compressed, "the default rules compress some outputs of this session"
    assert all(f.entry.saved_tokens and f.entry.saved_tokens > 0 for f in compressed)
    assert 0 < saved < billed
    # in cache mode the proxy never changes what an earlier request cached
    assert not [f for f in flows if f.entry.cache_miss == "proxy"]
