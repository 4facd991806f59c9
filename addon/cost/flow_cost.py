"""Fills a flow's cost columns: billed and saved USD, and why the prompt cache missed."""

from __future__ import annotations

from dataclasses import dataclass

from headroom_mitm.addon.cost.billed import BilledUsage, estimate_cost
from headroom_mitm.addon.cost.misses import FIVE_MINUTES, ONE_HOUR, CacheWatch, Seen
from headroom_mitm.addon.cost.prefix import Prefix
from headroom_mitm.rules.prices import PriceTable
from headroom_mitm.addon.store.entries import FlowEntry

__all__ = ["CostFacts", "CostKeeper"]

# providers that cache a prompt's start by themselves, without cache writes in their usage
_AUTOMATIC_CACHE = frozenset({"openai-chat", "openai-responses", "gemini"})


@dataclass(frozen=True)
class CostFacts:
    """What the rewrite worker learnt of a body that pricing needs."""

    prefix: Prefix | None
    saved_new: int = 0
    """Our tokens removed from outputs this request sends for the first time."""
    saved_repeated: int = 0
    """... from outputs earlier requests already sent."""


class CostKeeper:
    """Prices each flow handed to the log; keeps the conversations' recent requests."""

    def __init__(self, prices: PriceTable) -> None:
        self.prices = prices
        self.watch = CacheWatch()

    def settle(self, entry: FlowEntry, facts: CostFacts | None) -> None:
        if entry.usage_input is None and entry.usage_cache_read is None:
            return  # no usage in the answer: nothing billed that we know of
        usage = BilledUsage(entry.usage_input or 0, entry.usage_output or 0, entry.usage_cache_read or 0,
                            entry.usage_cache_write or 0, entry.usage_cache_write_1h or 0)
        lost_to_proxy = self._judge(entry, facts, usage)
        price = self.prices.price_of(entry.model)
        if price is None:
            return  # "unknown": never a guess
        cost = estimate_cost(price, usage, tokens_sent=entry.tokens_after,
                             saved_new=facts.saved_new if facts else 0,
                             saved_repeated=facts.saved_repeated if facts else 0,
                             reads_lost_to_proxy=lost_to_proxy)
        entry.cost_usd = round(cost.billed_usd, 8)
        entry.saved_usd = round(cost.saved_usd, 8)
        entry.saved_tokens = cost.saved_tokens
        entry.price_checked = price.checked

    def _judge(self, entry: FlowEntry, facts: CostFacts | None, usage: BilledUsage) -> int:
        if facts is None or facts.prefix is None or not entry.session_id:
            return 0
        automatic = entry.provider in _AUTOMATIC_CACHE
        one_hour = facts.prefix.one_hour or usage.cache_write_1h > 0
        seen = Seen(at=entry.started_at, prefix=facts.prefix,
                    cached=usage.prompt if automatic else usage.cache_read + usage.cache_write,
                    lifetime_s=ONE_HOUR if one_hour else FIVE_MINUTES)
        wrote_fresh = usage.fresh > 0 if automatic else usage.cache_write > 0
        miss = self.watch.judge(entry.session_id, entry.model, seen, usage.cache_read, wrote_fresh)
        if miss is None:
            return 0
        entry.cache_miss, entry.cache_miss_where, entry.cache_miss_tokens = miss.cause, miss.where, miss.tokens
        return miss.tokens if miss.cause == "proxy" else 0
