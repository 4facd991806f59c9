"""Runs of lines an earlier tool output already showed become one backward reference."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from headroom_mitm.addon.compress import REGISTRY, Context, run
from headroom_mitm.addon.compress.markers import parse_marker
from headroom_mitm.addon.compress.seen_lines import expand

SOURCE = [f"    def method_{n}(self, value):  # does thing {n}" for n in range(1, 61)]


def _nl(lines: list[str], first: int) -> str:
    return "\n".join(f"{first + k:>6}\t{line}" for k, line in enumerate(lines))


def _ctx(earlier: dict[str, str], call_id: str = "now") -> Context:
    return Context(tool_name="bash", call_id=call_id, earlier_texts=earlier)


def test_a_region_viewed_again_with_shifted_numbers_points_back_and_expands():
    earlier = {"step-3": _nl(SOURCE[:40], 100)}
    again = _nl(["    # a line added by an edit"] + SOURCE[10:30], 110)  # same text, numbers moved by one
    result = run("seen_lines", again, None, _ctx(earlier))
    found = [parse_marker(line) for line in result.text.split("\n") if line.startswith("[headroom: seen")]
    assert len(found) == 1
    assert found[0].detail == "lines 11-30 of call step-3, numbered 111-130 tab"
    assert result.text.split("\n")[0] == "   110\t    # a line added by an edit"
    assert expand(result.text, earlier) == again
    assert result.originals == (again,)


def test_it_points_to_the_latest_output_showing_the_run_and_never_to_itself():
    text = "\n".join(SOURCE[:12])
    earlier = {"a": text, "b": "other\n" + text}
    result = run("seen_lines", text, None, _ctx(earlier))
    assert "of call b" in result.text
    assert run("seen_lines", text, None, _ctx({"now": text}, call_id="now")).text == text


def test_short_or_trivial_runs_are_left_alone():
    braces = "\n".join(["}", "", "{", "}", "", "{", "}", ""])
    assert run("seen_lines", braces, None, _ctx({"a": braces})).text == braces
    few = "\n".join(SOURCE[:2])
    assert run("seen_lines", few, None, _ctx({"a": few + "\nmore"})).text == few


def test_without_earlier_outputs_nothing_changes():
    text = "\n".join(SOURCE)
    assert run("seen_lines", text, None, Context()).text == text


def test_real_mini_swe_agent_sessions_round_trip(trace_outputs):
    sessions: dict[str, dict[str, str]] = {}
    replaced = 0
    for output in [o for o in trace_outputs if o.source == "mini-swe-agent"][:600]:
        earlier = sessions.setdefault(output.session, {})
        result = run("seen_lines", output.text, None, _ctx(dict(earlier), output.call_id))
        assert len(result.text) <= len(output.text)
        assert expand(result.text, earlier) == output.text
        replaced += result.text != output.text
        earlier[output.call_id] = result.text  # what was sent is what later outputs may point at
    assert replaced


LINE = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=30)
POOL = st.lists(st.sampled_from(SOURCE[:15] + ["", "}", "x" * 13]) | LINE, min_size=0, max_size=30)


@st.composite
def conversations(draw):
    earlier_lines = [draw(POOL) for _ in range(draw(st.integers(0, 3)))]
    numbered = [draw(st.booleans()) for _ in earlier_lines]
    earlier = {f"c{i}": (_nl(lines, draw(st.integers(1, 999))) if num else "\n".join(lines))
               for i, (lines, num) in enumerate(zip(earlier_lines, numbered))}
    pieces: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        if earlier_lines and draw(st.booleans()):
            source = draw(st.sampled_from(earlier_lines))
            start = draw(st.integers(0, max(0, len(source) - 1)))
            pieces.extend(source[start : start + draw(st.integers(0, 20))])
        else:
            pieces.extend(draw(POOL))
    if draw(st.booleans()):
        text = _nl(pieces, draw(st.integers(0, 2000)))
    else:
        text = draw(st.sampled_from(["\n", "\r\n"])).join(pieces)
    return earlier, text


@settings(max_examples=200, deadline=None)
@given(conversations(), st.integers(2, 8), st.integers(0, 300))
def test_never_longer_deterministic_and_expands_exactly(conversation, min_lines, min_chars):
    earlier, text = conversation
    params = {"min_lines": min_lines, "min_chars": min_chars}
    first = REGISTRY["seen_lines"].fn(text, params, _ctx(earlier))
    assert len(first.text) <= len(text)
    assert REGISTRY["seen_lines"].fn(text, params, _ctx(earlier)) == first
    assert expand(first.text, earlier) == text


def test_a_framed_output_keeps_its_own_exit_code_and_warning():
    """mini-swe-agent's warning repeats on every output it cuts short: a reference to an earlier
    output's lines must never stand in for this output's exit code."""
    warning = ("<warning>\nThe output of your last command was too long.\nPlease try a different command that "
               "produces less output.\nIf you're looking at a file you can try use head, tail or sed.\n</warning>")
    earlier = f"<returncode>1</returncode>\n{warning}<output_head>\nline a of the first command\n</output_head>"
    now = f"<returncode>0</returncode>\n{warning}<output_head>\n" + "\n".join(
        f"commit line {n} of the second command output" for n in range(6)) + "\n</output_head>"
    result = REGISTRY["seen_lines"].fn(now, {"min_lines": 3, "min_chars": 0}, _ctx({"c0": earlier}))
    assert result.text == now  # the only lines seen before are the framing's
