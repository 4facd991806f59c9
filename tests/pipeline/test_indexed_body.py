"""A body parsed turn by turn, and continued from an earlier body's parse, equals ``json.loads``."""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from headroom_mitm.addon.indexed_body import parse_continuing, parse_indexed, shared_prefix

_leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
_values = st.recursive(_leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                       max_leaves=12)
_turns = st.lists(st.dictionaries(st.sampled_from(["role", "content", "x"]), _values, min_size=1, max_size=3),
                  max_size=6)
_spacing = st.sampled_from([(",", ":"), (", ", ": "), (",\n  ", " : ")])


def _body(before: dict, turns: list, after: dict, separators: tuple[str, str]) -> str:
    doc = {**{k: v for k, v in before.items() if k != "messages"}, "messages": turns,
           **{k: v for k, v in after.items() if k != "messages" and k not in before}}
    return json.dumps(doc, separators=separators, ensure_ascii=False)


_tops = st.dictionaries(st.sampled_from(["model", "system", "tools", "stream"]), _values, max_size=3)


@settings(max_examples=200, deadline=None)
@given(_tops, _turns, _tops, _spacing)
def test_a_body_parsed_turn_by_turn_equals_json_loads(before, turns, after, separators):
    text = _body(before, turns, after, separators)
    parsed = parse_indexed(text)
    assert parsed is not None
    assert parsed.doc == json.loads(text)
    assert list(parsed.doc) == list(json.loads(text))  # key order too
    for turn, start, end in zip(parsed.turns, parsed.turn_starts, parsed.turn_ends):
        assert json.loads(text[start:end]) == turn


@settings(max_examples=200, deadline=None)
@given(_tops, _turns, _turns, st.integers(0, 6), _tops, _tops, _spacing)
def test_a_body_continued_from_an_earlier_one_equals_json_loads(before, turns, new_turns, keep, after, later_after,
                                                                separators):
    earlier_text = _body(before, turns, after, separators)
    text = _body(before, turns[:keep] + new_turns, later_after, separators)
    earlier = parse_indexed(earlier_text)
    assert earlier is not None
    continued = parse_continuing(text, earlier, shared_prefix(text, earlier_text))
    assert continued is not None  # the same top level up to the turns
    parsed, kept = continued
    assert parsed.doc == json.loads(text)
    assert list(parsed.doc) == list(json.loads(text))
    assert all(parsed.turns[n] is earlier.turns[n] for n in range(kept))  # really reused
    assert kept >= min(keep, len(turns))


def test_shared_prefix_finds_the_first_difference_across_chunks():
    a = "x" * 200_000
    assert shared_prefix(a, a) == 200_000
    assert shared_prefix(a, a[:123_456] + "y" + a[123_457:]) == 123_456
    assert shared_prefix(a, "") == 0
    assert shared_prefix("abc", "abd") == 2


def test_what_it_does_not_index_is_left_to_json_loads():
    for text in ('{"messages": [1]}', '{"model": "x"}', '[]', '{"messages": [], "messages": []}',
                 '{"messages": [{}]} x', '{"messages": [{}]', '', '{"messages": [{"a": 1}], "messages": 3}'):
        assert parse_indexed(text) is None, text
