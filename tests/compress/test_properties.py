"""Every compressor, on any text: no exception, never longer, deterministic; lossless ones restore."""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st
from json_values import same_json

from headroom_mitm.addon.compress import REGISTRY, Context, run
from headroom_mitm.addon.compress.markers import MARKER_RE, marker, parse_marker
from headroom_mitm.addon.tokens import count_tokens

LINE = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
NUMBERED = st.builds(
    lambda start, lines, sep: "\n".join(f"{start + i:>6}{sep}{line}" for i, line in enumerate(lines)),
    st.integers(1, 2_000_000), st.lists(LINE.filter(lambda s: "\n" not in s), min_size=1, max_size=30),
    st.sampled_from(["→", "\t"]),
)
GREP = st.builds(
    lambda rows: "\n".join(f"{path}{sep}{n}{sep}{text}" for path, n, sep, text in rows),
    st.lists(st.tuples(st.sampled_from(["src/a.py", "lib/b-1.js", "c.txt"]), st.integers(1, 500),
                       st.sampled_from([":", "-"]), LINE.filter(lambda s: "\n" not in s)), min_size=1, max_size=20),
)
RECORDS = st.lists(st.dictionaries(st.sampled_from(["id", "name", "a,b", "", "1"]),
                                   st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                             LINE, st.lists(st.integers(), max_size=3)), max_size=5),
                   min_size=1, max_size=12)
TEXTS = st.one_of(
    st.text(max_size=400),
    st.lists(LINE, max_size=40).map("\n".join),
    st.lists(LINE, max_size=40).map("\r\n".join),
    NUMBERED,
    GREP,
    RECORDS.map(json.dumps),
    RECORDS.map(lambda rows: json.dumps({"total": len(rows), "items": rows}, indent=2)),
    st.lists(st.sampled_from(["\x1b[32mok\x1b[0m", "50%|█████     | 5/10", "\r 10%", "ERROR boom", "x" * 50]),
             max_size=30).map("\n".join),
)
CTX = Context(tool_name="Read", arguments={"file_path": "/a.py"}, call_id="now",
              earlier_outputs={"0" * 64: "before"}, earlier_reads={"/a.py": ("before", "     1→x\n     2→y")})


@settings(max_examples=150, deadline=None)
@given(TEXTS, st.sampled_from(sorted(REGISTRY)))
def test_never_raises_never_longer_and_deterministic(text, name):
    first = REGISTRY[name].fn(text, _defaults(name), CTX)
    assert len(first.text) <= len(text) or count_tokens(first.text) < count_tokens(text)
    assert REGISTRY[name].fn(text, _defaults(name), CTX) == first


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.sampled_from(sorted(name for name, spec in REGISTRY.items() if spec.lossless)))
def test_lossless_compressors_restore_the_input(text, name):
    spec = REGISTRY[name]
    compressed = run(name, text, None, CTX).text
    restored = spec.restore(compressed)
    if name == "json_table" and compressed != text:
        assert same_json(json.loads(restored), json.loads(text))
    else:
        assert restored == text


# What each lossless compressor is for, in shapes it must shrink: a compressor that gave its
# input back unchanged would pass the round trip above.
MEANT_FOR = {
    "line_numbers": st.builds(
        lambda start, lines, sep: "\n".join(f"{start + i:>6}{sep}{line}" for i, line in enumerate(lines)),
        st.integers(1, 2_000_000), st.lists(LINE.filter(lambda s: "\n" not in s), min_size=12, max_size=30),
        st.sampled_from(["→", "\t"]),
    ),
    "search": st.builds(
        lambda path, rows: "\n".join(f"{path}:{n}:{text}" for n, text in rows),
        st.sampled_from(["src/app/handlers/a.py", "lib/vendor/b-1.js"]),
        st.lists(st.tuples(st.integers(1, 500), LINE.filter(lambda s: "\n" not in s)), min_size=6, max_size=20),
    ),
    "json_table": st.lists(
        st.fixed_dictionaries({"identifier": st.integers(), "display_name": LINE,
                               "enabled": st.booleans(), "score": st.floats(allow_nan=False, allow_infinity=False)}),
        min_size=6, max_size=12,
    ).map(lambda rows: json.dumps(rows, indent=2)),
}


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(MEANT_FOR)).flatmap(lambda name: st.tuples(st.just(name), MEANT_FOR[name])))
def test_lossless_compressors_shrink_what_they_are_for_and_restore_it(case):
    name, text = case
    compressed = run(name, text, None, CTX).text
    assert len(compressed) < len(text)
    restored = REGISTRY[name].restore(compressed)
    if name == "json_table":
        assert same_json(json.loads(restored), json.loads(text))
    else:
        assert restored == text


@given(st.sampled_from(["lines", "log", "json_sample"]), st.text(max_size=60), st.booleans())
def test_every_marker_parses_back(kind, detail, with_ref):
    ref = "0123456789ab" if with_ref else None
    rendered = marker(kind, detail, ref)
    parsed = parse_marker(rendered)
    assert parsed is not None and parsed.kind == kind and parsed.ref == ref
    assert MARKER_RE.fullmatch(rendered)


def _defaults(name):
    return {key: spec.default for key, spec in REGISTRY[name].params.items()}
