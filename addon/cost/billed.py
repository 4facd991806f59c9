"""Billed and saved dollars of one request, from the provider's own usage.

Billed: every token class the provider reported, at the table's price for it.

Saved, an estimate: the tokens compression removed from the request, counted with our tokenizer,
scaled to the provider's count (its reported input over our count of the body as sent, kept
within 0.5-2), and
priced as the provider would have billed them: an output first sent in this request at the
rate the request's fresh input was billed at (uncached input and cache writes, as reported), an
output repeated from earlier requests at the cache-read rate. When the proxy itself changed
bytes an earlier request had cached (token mode's checkpoints), the reads that became writes
are subtracted: a request can save less than nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from headroom_mitm.rules.prices import Price

__all__ = ["BilledUsage", "Cost", "billed_usd", "estimate_cost"]

_MILLION = 1_000_000.0
_SCALE_RANGE = (0.5, 2.0)
"""Provider tokens per token of ours, as far as it is believed: Claude counts about 1.18 per
o200k token. Outside this range the two counts are not of the same text (a body the proxy saw
only in part), and the nearer bound is used."""


@dataclass(frozen=True)
class BilledUsage:
    """The provider's usage as the flow log stores it (input excludes cache reads and writes)."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    """All cache writes; ``cache_write_1h`` of them at the 1-hour rate, the rest at 5 minutes."""
    cache_write_1h: int = 0

    @property
    def prompt(self) -> int:
        return self.input + self.cache_read + self.cache_write

    @property
    def fresh(self) -> int:
        return self.input + self.cache_write


@dataclass(frozen=True)
class Cost:
    billed_usd: float
    saved_usd: float
    saved_tokens: int
    """Tokens removed, in the provider's count (our count scaled)."""


def billed_usd(price: Price, usage: BilledUsage) -> float:
    write_1h = min(usage.cache_write_1h, usage.cache_write)
    return (usage.input * price.input + usage.output * price.output + usage.cache_read * price.cache_read
            + (usage.cache_write - write_1h) * price.cache_write + write_1h * price.cache_write_1h) / _MILLION


def fresh_rate(price: Price, usage: BilledUsage) -> float:
    """USD per million of the input this request sent the provider for the first time."""
    if not usage.fresh:
        return price.input
    write_1h = min(usage.cache_write_1h, usage.cache_write)
    spent = (usage.input * price.input + (usage.cache_write - write_1h) * price.cache_write
             + write_1h * price.cache_write_1h)
    return spent / usage.fresh


def estimate_cost(price: Price, usage: BilledUsage, *, tokens_sent: int | None, saved_new: int,
                  saved_repeated: int, reads_lost_to_proxy: int = 0) -> Cost:
    """``saved_new`` / ``saved_repeated``: our tokens removed from outputs first sent in this
    request / repeated from earlier ones. ``tokens_sent``: our count of the whole body as sent
    (None: unknown, no scaling). ``reads_lost_to_proxy``: provider tokens an earlier request
    cached that this one had to write again because the proxy changed them."""
    scale = usage.prompt / tokens_sent if tokens_sent and usage.prompt else 1.0
    scale = min(max(scale, _SCALE_RANGE[0]), _SCALE_RANGE[1])
    rate_new = fresh_rate(price, usage)
    saved = (saved_new * scale * rate_new + saved_repeated * scale * price.cache_read
             - reads_lost_to_proxy * max(0.0, rate_new - price.cache_read)) / _MILLION
    return Cost(billed_usd(price, usage), saved, round((saved_new + saved_repeated) * scale))
