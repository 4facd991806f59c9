"""The shipped rules on conversations where the agent looks at the same lines again."""

from __future__ import annotations

import json

from headroom_mitm.addon import pipeline
from headroom_mitm.addon.compress import REGISTRY
from headroom_mitm.addon.compress.seen_lines import expand
from headroom_mitm.addon.pipeline import compress_body
from headroom_mitm.addon.providers import by_name
from pipeline_fakes import anthropic_body, raw
from headroom_mitm.rules import load_rules

FILE = [f"    def handler_{n}(self, request):  # route {n}" for n in range(1, 81)]


def _view(first: int, last: int, shift: int = 0) -> str:
    return "\n".join(f"{n + shift:>6}\t{FILE[n - 1]}" for n in range(first, last + 1))


def _compress(calls):
    body = anthropic_body(calls)
    return compress_body(raw(body), json.loads(raw(body)), by_name("anthropic"), load_rules(None), "cache")


def test_a_region_viewed_again_points_back_to_the_earlier_view():
    pipeline.clear_memo()
    calls = [("Bash", {"command": "nl -ba app.py | sed -n 1,60p"}, _view(1, 60)),
             ("Bash", {"command": "sed -i '5a # note' app.py"}, ""),
             ("Bash", {"command": "nl -ba app.py | sed -n 20,70p"}, _view(20, 70, shift=1))]
    outcome = _compress(calls)
    later = outcome.outputs[2]
    assert later.changed and later.tokens_after < later.tokens_before / 2
    assert "of call toolu_00" in later.text
    numbered_again = REGISTRY["line_numbers"].restore(later.text)  # the rule's last step, undone first
    assert expand(numbered_again, {"toolu_00": outcome.outputs[0].text}) == calls[2][2]
    assert not outcome.outputs[0].changed or "[headroom: seen" not in outcome.outputs[0].text


def test_the_same_output_after_different_earlier_outputs_is_not_served_from_the_memo():
    pipeline.clear_memo()
    view = _view(10, 50)
    with_earlier = _compress([("Bash", {"command": "nl -ba app.py"}, _view(1, 80)),
                              ("Bash", {"command": "nl -ba app.py | sed -n 10,50p"}, view)])
    alone = _compress([("Bash", {"command": "ls"}, "app.py\nREADME.md"),
                       ("Bash", {"command": "nl -ba app.py | sed -n 10,50p"}, view)])
    assert "[headroom: seen" in with_earlier.outputs[1].text
    assert "[headroom: seen" not in alone.outputs[1].text


def test_adding_a_turn_keeps_every_earlier_output_byte_for_byte():
    pipeline.clear_memo()
    calls = [("Bash", {"command": f"nl -ba app.py | sed -n {a},{a + 30}p"}, _view(a, a + 30)) for a in (1, 10, 20, 30)]
    previous = None
    for k in range(1, len(calls) + 1):
        texts = [report.text for report in _compress(calls[:k]).outputs]
        if previous is not None:
            assert texts[: len(previous)] == previous
        previous = texts
