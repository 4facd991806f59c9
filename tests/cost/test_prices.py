"""The price table: shipped, extended by a rule file or a file of its own, never guessing."""

from __future__ import annotations

from pathlib import Path

import pytest
from mitmproxy import exceptions

from headroom_mitm.addon.cost.options import price_file, price_table
from headroom_mitm.rules.prices import PricesError, load_prices, parse_price_file
from headroom_mitm.rules import RulesError, load_rules


def test_every_shipped_price_says_when_it_was_checked() -> None:
    table = load_prices()
    assert len(table) >= 20
    for name in table.names():
        price = table.price_of(name)
        assert price is not None and price.checked[:4].isdigit(), name


@pytest.mark.parametrize("model, priced_as", [
    ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
    ("claude-opus-4-20250514", "claude-opus-4"),
    ("claude-opus-4-6[1m]", "claude-opus-4-6"),
    ("claude-sonnet-4-5-latest", "claude-sonnet-4-5"),
    ("gpt-5-mini-2025-08-07", "gpt-5-mini"),
    ("models/gemini-2.5-pro", "gemini-2.5-pro"),
])
def test_dated_and_variant_ids_find_their_model(model: str, priced_as: str) -> None:
    price = load_prices().price_of(model)
    assert price is not None and price.model == priced_as


@pytest.mark.parametrize("model", ["gpt-4.1-nano", "claude-next", "", "my-local-llama"])
def test_a_model_the_table_does_not_name_has_no_price(model: str) -> None:
    assert load_prices().price_of(model) is None


def test_a_rule_file_extends_the_table(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("extends: default\nprices:\n  my-local-llama: {input: 0.1, output: 0.2, checked: 2026-11-30}\n"
                     "  claude-haiku-4-5: {input: 0.9, output: 4.5, cache_read: 0.09, checked: 2026-12-01}\n")
    table = price_table((), load_rules(str(rules)).prices)
    assert table.price_of("my-local-llama").output == 0.2
    haiku = table.price_of("claude-haiku-4-5-20251001")
    assert (haiku.input, haiku.checked, haiku.source) == (0.9, "2026-12-01", "rules.yaml")
    assert table.price_of("claude-opus-4-6").input == 5.0  # the rest of the shipped table stays


def test_the_option_names_a_price_file_and_the_rule_file_wins_over_it(tmp_path: Path) -> None:
    own = tmp_path / "prices.yaml"
    own.write_text("version: 1\nprices:\n  team-model: {input: 2, output: 8, checked: 2026-10-01}\n"
                   "  gpt-5: {input: 1, output: 9, checked: 2026-10-01}\n")
    rules = tmp_path / "rules.yaml"
    rules.write_text("extends: default\nprices:\n  gpt-5: {input: 1.1, output: 9.5, checked: 2026-11-01}\n")
    table = price_table(price_file(str(own)), load_rules(str(rules)).prices)
    assert table.price_of("team-model").input == 2
    assert table.price_of("gpt-5").input == 1.1


def test_a_wrong_price_names_file_line_and_what(tmp_path: Path) -> None:
    with pytest.raises(PricesError, match=r"^p.yaml:3: gpt-x: input must be a number"):
        parse_price_file("p.yaml", "version: 1\nprices:\n  gpt-x: {input: cheap, output: 1, checked: 2026-01-01}\n")
    with pytest.raises(PricesError, match=r"p.yaml:2: gpt-y: checked is missing"):
        parse_price_file("p.yaml", "prices:\n  gpt-y: {input: 1, output: 1}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("prices:\n  gpt-z: {input: 1, output: 1, checked: 2026-01-01, discount: 3}\n")
    with pytest.raises(exceptions.OptionsError, match=r"headroom_prices=.*bad.yaml:2: gpt-z: unknown key 'discount'"):
        price_file(str(bad))
    rules = tmp_path / "rules.yaml"
    rules.write_text("extends: default\nprices:\n  gpt-q: {input: -1, output: 1, checked: 2026-01-01}\n")
    with pytest.raises(RulesError, match=r"rules.yaml:3"):
        load_rules(str(rules))
