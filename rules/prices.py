"""The price table: shipped ``prices.yaml``, extended by a rule file's ``prices:`` section or
a file of its own (``headroom_prices``). A model no entry names has no price: "unknown"."""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

__all__ = ["Price", "PriceTable", "PricesError", "SHIPPED_PRICES", "load_prices", "parse_price_section"]

SHIPPED_PRICES = Path(__file__).with_name("prices.yaml")
RATE_KEYS = ("input", "output", "cache_read", "cache_write", "cache_write_1h")
ENTRY_KEYS = ("provider", *RATE_KEYS, "checked")
# what may follow a table name in a model id and still be the same model: a date, "-latest", a
# version tag or the 1M-context variant; never another word ("gpt-4.1" does not price "gpt-4.1-nano")
_SUFFIX = re.compile(r"^(?:[-@](?:\d{8}|\d{4}-\d{2}-\d{2}|latest|v\d[\w.:-]*)|\[1m\]|:[\w.-]*)*$")


class PricesError(ValueError):
    """A price file that cannot be used; the message names file, line and what is wrong."""


@dataclass(frozen=True)
class Price:
    """USD per million tokens for one model, and the day the figures were checked."""

    model: str
    input: float
    output: float
    cache_read: float
    cache_write: float
    cache_write_1h: float
    checked: str
    provider: str = ""
    source: str = ""
    """The file the entry came from (the shipped table or the user's)."""


class PriceTable:
    """Model name -> price, matched by the longest table name the model id starts with."""

    def __init__(self, prices: Mapping[str, Price]) -> None:
        self._prices = dict(prices)
        self._by_length = sorted(self._prices, key=len, reverse=True)

    def __len__(self) -> int:
        return len(self._prices)

    def names(self) -> list[str]:
        return sorted(self._prices)

    def price_of(self, model: str | None) -> Price | None:
        if not model:
            return None
        wanted = model.strip().lower().removeprefix("models/")  # Gemini names "models/gemini-…"
        for name in self._by_length:
            if wanted.startswith(name) and _SUFFIX.match(wanted[len(name):]):
                return self._prices[name]
        return None

    def extended_by(self, other: "PriceTable") -> "PriceTable":
        return PriceTable({**self._prices, **other._prices})


def load_prices(extra: tuple[tuple[str, str], ...] = ()) -> PriceTable:
    """The shipped table, then each ``(source name, YAML text)`` of ``extra`` over it."""
    table = parse_price_file(str(SHIPPED_PRICES), SHIPPED_PRICES.read_text(encoding="utf-8"))
    for source, text in extra:
        table = table.extended_by(parse_price_file(source, text))
    return table


def parse_price_file(source: str, text: str) -> PriceTable:
    """A whole price file: ``version: 1`` and a ``prices:`` mapping."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PricesError(f"{source}:{(mark.line + 1) if mark else 1}: not YAML: {exc}") from None
    if root is None:
        return PriceTable({})
    if not isinstance(root, yaml.MappingNode):
        raise PricesError(f"{source}:{root.start_mark.line + 1}: a price file is a mapping with a prices: key")
    section = None
    for key, value in root.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else None
        if name == "prices":
            section = value
        elif name != "version":
            raise PricesError(f"{source}:{key.start_mark.line + 1}: unknown key {name!r} (expected version, prices)")
    return PriceTable(parse_price_section(source, section) if section is not None else {})


def parse_price_section(source: str, node: yaml.Node) -> dict[str, Price]:
    """The ``prices:`` mapping (model -> rates), from a price file or a rule file."""
    if not isinstance(node, yaml.MappingNode):
        raise PricesError(f"{source}:{node.start_mark.line + 1}: prices: must map model names to rates")
    loader = yaml.SafeLoader("")
    prices: dict[str, Price] = {}
    for key, value in node.value:
        line = key.start_mark.line + 1
        model = loader.construct_object(key, deep=True)
        if not isinstance(model, str) or not model.strip():
            raise PricesError(f"{source}:{line}: a model name must be a non-empty string")
        entry = loader.construct_object(value, deep=True)
        prices[model.strip().lower()] = _price(source, line, model.strip().lower(), entry)
    return prices


def _price(source: str, line: int, model: str, entry: Any) -> Price:
    where = f"{source}:{line}: {model}"
    if not isinstance(entry, dict):
        raise PricesError(f"{where}: give the rates as a mapping ({', '.join(ENTRY_KEYS)})")
    unknown = sorted(set(map(str, entry)) - set(ENTRY_KEYS))
    if unknown:
        raise PricesError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(ENTRY_KEYS)})")
    for needed in ("input", "output", "checked"):
        if needed not in entry:
            raise PricesError(f"{where}: {needed} is missing (every price says when it was checked)")
    rates: dict[str, float] = {}
    for key in RATE_KEYS:
        value = entry.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise PricesError(f"{where}: {key} must be a number of USD per million tokens, got {value!r}")
        rates[key] = float(value)
    checked = entry["checked"]
    if isinstance(checked, (_dt.date, _dt.datetime)):
        checked = checked.isoformat()[:10]
    if not isinstance(checked, str) or not checked.strip():
        raise PricesError(f"{where}: checked must be the date the price was read, e.g. 2026-12-02")
    cache_read = rates.get("cache_read", rates["input"])
    cache_write = rates.get("cache_write", rates["input"])  # providers that bill no writes
    return Price(model=model, input=rates["input"], output=rates["output"], cache_read=cache_read,
                 cache_write=cache_write, cache_write_1h=rates.get("cache_write_1h", cache_write),
                 checked=checked.strip(), provider=str(entry.get("provider") or ""), source=Path(source).name)
