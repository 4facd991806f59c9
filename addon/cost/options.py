"""The cost options: a price file of the user's own, budgets and rate limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mitmproxy import exceptions

from headroom_mitm.addon.cost.limits import LimitError, Limits, parse_budgets, parse_rates
from headroom_mitm.rules.prices import PriceTable, PricesError, load_prices

DECLARATIONS = (
    (
        "headroom_prices",
        str,
        "",
        "A YAML price file over the shipped table (same shape: prices: {model: {input, output, "
        "cache_read, cache_write, cache_write_1h, checked}}, USD per million tokens). A rule "
        "file's prices: section applies on top. Empty: the shipped table.",
    ),
    (
        "headroom_budget",
        Sequence[str],
        [],
        "USD per hour, day or month (UTC), for all providers or one: 5/day, anthropic:20/month. "
        "Over it a request gets a 429 in its provider's format with Retry-After. Repeat for "
        "several. Off by default.",
    ),
    (
        "headroom_rpm",
        Sequence[str],
        [],
        "Requests per minute, for all providers or one: 60, anthropic:50. Off by default.",
    ),
    (
        "headroom_tpm",
        Sequence[str],
        [],
        "Request tokens per minute (as the proxy counts the body it sends), for all providers or "
        "one: 400000, openai:200000. Off by default.",
    ),
)
LIMIT_OPTIONS = frozenset({"headroom_budget", "headroom_rpm", "headroom_tpm"})


def limits_from(budget: Sequence[str], rpm: Sequence[str], tpm: Sequence[str]) -> Limits:
    """Raises OptionsError naming the option and the value."""
    try:
        return Limits(parse_budgets(budget), parse_rates("headroom_rpm", rpm), parse_rates("headroom_tpm", tpm))
    except LimitError as exc:
        raise exceptions.OptionsError(str(exc)) from None


def price_file(path: str) -> tuple[tuple[str, str], ...]:
    """The option's file as (name, text); raises OptionsError naming it when unreadable or wrong."""
    path = path.strip()
    if not path:
        return ()
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
        load_prices(((path, text),))  # validated once, here
    except OSError as exc:
        raise exceptions.OptionsError(f"headroom_prices={path!r}: cannot read it: {exc}") from None
    except PricesError as exc:
        raise exceptions.OptionsError(f"headroom_prices={path!r}: {exc}") from None
    return ((path, text),)


def price_table(files: tuple[tuple[str, str], ...], rule_prices: Mapping[str, Any]) -> PriceTable:
    return load_prices(files).extended_by(PriceTable(rule_prices))
