"""splice: exactly the replaced string tokens change, every other byte stays."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headroom_mitm.addon.providers._splice import SpliceError, splice, string_spans
from headroom_mitm.addon.tool_output import JsonPath

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_docs = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=25,
)


def string_paths(value: Any, path: JsonPath = ()) -> list[JsonPath]:
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for key, inner in value.items() for p in string_paths(inner, path + (key,))]
    if isinstance(value, list):
        return [p for index, inner in enumerate(value) for p in string_paths(inner, path + (index,))]
    return []


def set_at(doc: Any, path: JsonPath, value: str) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


@st.composite
def docs_with_replacements(draw: st.DrawFn) -> tuple[Any, str, dict[JsonPath, str]]:
    doc = draw(st.dictionaries(st.text(max_size=5), json_docs, max_size=5) | st.lists(json_docs, max_size=5))
    layout = draw(st.sampled_from([
        {}, {"indent": 2}, {"separators": (",", ":")}, {"ensure_ascii": False}, {"indent": "\t", "ensure_ascii": False},
    ]))
    raw = json.dumps(doc, **layout)
    paths = string_paths(doc)
    chosen = draw(st.lists(st.sampled_from(paths), unique=True)) if paths else []
    replacements = {path: draw(st.text()) for path in chosen}
    return doc, raw, replacements


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(docs_with_replacements())
def test_splice_changes_exactly_the_replaced_strings(case: tuple[Any, str, dict[JsonPath, str]]) -> None:
    doc, raw, replacements = case
    result = splice(raw, replacements)

    for path, value in replacements.items():
        set_at(doc, path, value)
    assert json.loads(result) == doc

    spans = string_spans(raw, replacements)
    changed = {path for path, value in replacements.items() if value != _get(json.loads(raw), path)}
    assert len(spans) == len(changed)
    rebuilt, cursor = [], 0
    for start, end, token in spans:
        assert start >= cursor, "spans overlap"
        assert raw[start] == '"' and raw[end - 1] == '"'
        assert isinstance(json.loads(raw[start:end]), str)
        rebuilt += [raw[cursor:start], token]
        cursor = end
    assert "".join(rebuilt) + raw[cursor:] == result


def _get(doc: Any, path: JsonPath) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def test_whitespace_numbers_and_escapes_elsewhere_survive() -> None:
    raw = '{ "a" : 1.50e+3 ,\n  "b":"\\u00e9\\/x", "c" : [ "old" , 2 ] }'
    assert splice(raw, {("c", 0): "new"}) == '{ "a" : 1.50e+3 ,\n  "b":"\\u00e9\\/x", "c" : [ "new" , 2 ] }'


def test_identical_value_keeps_its_original_escapes() -> None:
    raw = '{"b": "\\u00e9\\/x"}'
    assert splice(raw, {("b",): "é/x"}) == raw


def test_new_text_is_encoded_as_json_without_ascii_escaping() -> None:
    raw = '{"t": "x"}'
    assert splice(raw, {("t",): 'line "1"\nü'}) == '{"t": "line \\"1\\"\\nü"}'


def test_lone_surrogate_stays_escaped_so_the_body_remains_utf8() -> None:
    result = splice('{"t": "x"}', {("t",): "bad \ud800"})
    result.encode("utf-8")
    assert json.loads(result) == {"t": "bad \ud800"}


def test_duplicate_keys_resolve_to_the_last_like_json_parsers() -> None:
    raw = '{"k": "first", "k": "second"}'
    assert splice(raw, {("k",): "new"}) == '{"k": "first", "k": "new"}'
    assert json.loads(splice(raw, {("k",): "new"})) == {"k": "new"}


def test_duplicate_key_where_only_the_last_is_a_string() -> None:
    raw = '{"k": 1, "k": "s"}'
    assert splice(raw, {("k",): "t"}) == '{"k": 1, "k": "t"}'
    with pytest.raises(SpliceError):
        splice('{"k": "s", "k": 1}', {("k",): "t"})


@pytest.mark.parametrize(
    "raw, path, message",
    [
        ('{"a": "x"}', ("b",), "not found"),
        ('{"a": 3}', ("a",), "not a string"),
        ('{"a": ["x"]}', ("a", 1), "out of range"),
        ('{"a": ["x"]}', ("a", "0"), "non-integer"),
        ('{"a": {"0": "x"}}', ("a", 0), "with a number"),
        ('{"a": "x"}', ("a", "b"), "non-container"),
        ('{"a": "x"', ("a",), "not valid JSON"),
        ('{"a": "x"} trailing', ("a",), "after the JSON value"),
    ],
)
def test_bad_paths_and_bodies_raise_splice_error_naming_the_problem(raw: str, path: JsonPath, message: str) -> None:
    with pytest.raises(SpliceError, match=message):
        splice(raw, {path: "y"})


def test_splice_error_is_a_value_error() -> None:
    assert issubclass(SpliceError, ValueError)


def test_no_replacements_returns_the_text_unchanged() -> None:
    raw = '{"a": [1, 2,   3]}'
    assert splice(raw, {}) is raw


@pytest.mark.parametrize("replacements, message", [
    ({("a",): "x", ("a", "b"): "y"}, "goes inside another replaced string"),
    ({("a", "b"): "y", ("a",): "x"}, "names a container holding other replaced paths"),
    ({("m", 0): "y", ("m",): "x"}, "names a container holding other replaced paths"),
])
def test_a_path_inside_another_replaced_path_is_refused_whatever_the_order(
    replacements: dict[JsonPath, str], message: str
) -> None:
    # either order would otherwise write one replacement over the other, or inside it
    with pytest.raises(SpliceError, match=message):
        splice('{"a": {"b": "old"}, "m": ["old"]}', replacements)


def test_a_replacement_that_is_not_text_is_refused() -> None:
    with pytest.raises(SpliceError, match="is int, not str"):
        splice('{"a": "x"}', {("a",): 3})  # type: ignore[dict-item]
