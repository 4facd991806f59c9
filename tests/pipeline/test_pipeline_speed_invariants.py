"""The pipeline remembers what it learnt of each output across requests; remembering must never
change a byte: a request compressed with everything remembered comes out exactly as it does
from a cold start."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from headroom_mitm.addon import pipeline
from headroom_mitm.addon.pipeline import compress_body
from headroom_mitm.addon.providers import by_name
from headroom_mitm.addon.providers._splice import splice
from pipeline_fakes import RULES, anthropic_body, fake_rules, raw, trace_bodies
from headroom_mitm.rules import load_rules
from shared_data import data_missing

ANTHROPIC = by_name("anthropic")
REQUESTS = 25
READ_TEXT = "\n".join(f"{i:4d}  line {i} of the file" for i in range(60))


@pytest.fixture(autouse=True)
def fresh_memo():
    pipeline.clear_memo()
    yield
    pipeline.clear_memo()


def _summary(outcome: pipeline.Outcome) -> tuple:
    """Everything a user of an outcome can see."""
    reports = [(r.output.path, r.kind, r.rule, r.action, r.tokens_before, r.tokens_after, r.text, r.changed, r.note)
               for r in outcome.outputs]
    return outcome.text, reports, dict(outcome.originals), outcome.tokens_before, outcome.tokens_after


def _cold(text: str, wire, rules, mode: str) -> tuple:
    pipeline.clear_memo()
    return _summary(compress_body(text, json.loads(text), wire, rules, mode))


def _conversation() -> list[str]:
    data = trace_bodies.shared_data_dir()
    if data is None:
        data_missing(f"trace data not found at {Path(trace_bodies.__file__).resolve().parents[2] / 'shared' / 'data'}")
    files = trace_bodies.claude_code_trace_files()
    if not files:
        data_missing(f"no Claude Code trace under {data}")
    longest = max(files, key=lambda path: path.stat().st_size)
    bodies = list(itertools.islice(trace_bodies.claude_code_requests(longest), REQUESTS))
    return [json.dumps(body) for body in bodies]


@pytest.mark.parametrize("mode", ["cache", "token"])
def test_a_conversation_replayed_warm_matches_each_request_compressed_cold(mode):
    rules = load_rules(None)
    texts = _conversation()
    warm = [_summary(compress_body(text, json.loads(text), ANTHROPIC, rules, mode)) for text in texts]
    assert any(outcome[0] != text for outcome, text in zip(warm, texts)), "nothing was compressed: the check is empty"
    for number, (text, remembered) in enumerate(zip(texts, warm)):
        assert remembered == _cold(text, ANTHROPIC, rules, mode), f"request {number} differs once remembered"


def test_a_request_sent_twice_gives_the_same_bytes_and_hits_the_memo(tmp_path):
    rules = fake_rules(tmp_path)
    text = raw(anthropic_body([("Bash", {"command": "x"}, "a    b\n" * 40), ("Read", {"file_path": "/a"}, READ_TEXT)]))
    first = compress_body(text, json.loads(text), ANTHROPIC, rules)
    again = compress_body(text, json.loads(text), ANTHROPIC, rules)
    assert first.memo_misses and again.memo_hits == first.memo_misses and not again.memo_misses
    assert _summary(again) == _summary(first)
    assert first.text != text


def test_a_call_id_reused_with_other_arguments_is_not_taken_for_the_earlier_call(tmp_path):
    rules = fake_rules(tmp_path)
    # token mode retires a read of a file read again later: only when both name the same file
    same_file = [("Read", {"file_path": "/a.py"}, READ_TEXT), ("Read", {"file_path": "/a.py"}, READ_TEXT)]
    other_file = [("Read", {"file_path": "/b.py"}, READ_TEXT), ("Read", {"file_path": "/a.py"}, READ_TEXT)]
    first = compress_body(raw(anthropic_body(same_file)), anthropic_body(same_file), ANTHROPIC, rules, "token")
    assert first.outputs[0].text.startswith("[headroom: stale")
    text = raw(anthropic_body(other_file))  # the same call ids, text lengths and tools
    second = compress_body(text, json.loads(text), ANTHROPIC, rules, "token")
    assert not second.outputs[0].text.startswith("[headroom: stale")
    assert _summary(second) == _cold(text, ANTHROPIC, rules, "token")


@pytest.mark.parametrize("first, second", [(1, True), (0.0, -0.0), ({"a": 1, "b": 2}, {"b": 2, "a": 1}), ([1], [1.0])])
def test_arguments_equal_in_python_but_not_as_json_are_told_apart(first, second):
    assert first == second
    assert not pipeline._same_json({"x": first}, {"x": second})
    assert pipeline._same_json({"x": first}, json.loads(json.dumps({"x": first})))


def test_outputs_remembered_under_one_rule_set_are_judged_afresh_under_another(tmp_path):
    no_files = RULES.replace("  read_tools: [Read]\n", "  read_tools: [Cat]\n")
    assert no_files != RULES
    with_files, without_files = fake_rules(tmp_path), fake_rules(tmp_path, no_files)
    calls = [("Read", {"file_path": "/a.py"}, READ_TEXT), ("Read", {"file_path": "/a.py"}, READ_TEXT)]
    text = raw(anthropic_body(calls))
    warm_with = _summary(compress_body(text, json.loads(text), ANTHROPIC, with_files, "token"))
    warm_without = _summary(compress_body(text, json.loads(text), ANTHROPIC, without_files, "token"))
    assert warm_with != warm_without  # re-reads are only recognised when Read is a file tool
    assert warm_with == _cold(text, ANTHROPIC, with_files, "token")
    assert warm_without == _cold(text, ANTHROPIC, without_files, "token")


def test_a_shell_cat_is_recognised_the_same_every_time_it_is_seen(tmp_path):
    files = load_rules(None).files
    for _ in range(2):
        assert files.access("Bash", {"command": "cat -n 'src/a b.py'"}) == ("read", "src/a b.py")
        assert files.access("Bash", {"command": 'c"a"t src/a.py'}) == ("read", "src/a.py")
        assert files.access("Bash", {"command": "cat src/a.py | head"}) is None


def test_splicing_the_same_new_text_twice_writes_the_same_token():
    body = '{"a": ["x", "y"]}'
    lone_surrogate = "new \ud800 text"
    first = splice(body, {("a", 1): lone_surrogate})
    assert splice(body, {("a", 1): lone_surrogate}) == first == '{"a": ["x", "new \\ud800 text"]}'
    assert splice(body, {("a", 0): "é"}) == splice(body, {("a", 0): "é"}) == '{"a": ["é", "y"]}'
