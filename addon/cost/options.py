"""The cost options: a price file of the user's own (budgets and rate limits join them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from mitmproxy import exceptions

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
)


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
