"""json_table: arrays of records become a header and rows, only from min_rows records on, and
restore to the same JSON value, kinds included."""

from __future__ import annotations

import json

import pytest
from json_values import same_json

from headroom_mitm.addon.compress import REGISTRY, run


def _records(count: int) -> list[dict[str, object]]:
    return [{"identifier": n, "display_name": f"item {n}", "is_enabled": n % 2 == 0, "ratio": n / 2}
            for n in range(count)]


def _tabled(text: str, params: dict[str, int] | None = None) -> bool:
    return run("json_table", text, params).text.startswith("[headroom: json_table")


@pytest.mark.parametrize("min_rows", [None, 2, 5])
def test_a_table_starts_at_exactly_min_rows_records(min_rows: int | None) -> None:
    rows = 3 if min_rows is None else min_rows  # the default is 3
    params = None if min_rows is None else {"min_rows": min_rows}
    assert _tabled(json.dumps(_records(rows), indent=2), params)
    assert not _tabled(json.dumps(_records(rows - 1), indent=2), params)
    assert _tabled(json.dumps({"total": rows, "items": _records(rows)}, indent=2), params)
    assert not _tabled(json.dumps({"total": rows - 1, "items": _records(rows - 1)}, indent=2), params)


def test_numbers_booleans_and_strings_that_look_like_them_keep_their_kind() -> None:
    records = [{"count": 1, "share": 1.0, "flag": True, "label": "1", "word": "true", "none": None, "nested": [1, 1.0]}
               for _ in range(6)]
    text = json.dumps(records, indent=2)
    compressed = run("json_table", text).text
    assert len(compressed) < len(text) / 2
    assert same_json(json.loads(REGISTRY["json_table"].restore(compressed)), records)
