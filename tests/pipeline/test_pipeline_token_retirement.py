"""Token mode retires repeated and idle outputs, and changes earlier turns only at checkpoints."""

from __future__ import annotations

import json

import pytest

from headroom_mitm.addon import pipeline
from headroom_mitm.addon.pipeline import compress_body
from headroom_mitm.addon.providers import by_name
from pipeline_fakes import anthropic_body, fake_rules, raw
from headroom_mitm.rules import load_rules

ANTHROPIC = by_name("anthropic")
TEST_RUN_1 = "\n".join(f"test_case_{i} ... FAILED (AssertionError in check_{i})" for i in range(30))
TEST_RUN_2 = "\n".join(f"test_case_{i} ... ok" for i in range(30))
MODULE = "\n".join(f"def parse_header_{i}(raw_bytes):\n    return decode_field(raw_bytes, {i})" for i in range(40))

TOKEN_RULES = """\
files:
  read_tools: [Read]
  path_arguments: [file_path]
token_mode:
  step_turns: {step}
  repeated_calls:
    tools: [Bash]
  idle_outputs:
    min_age: 4
    idle_turns: 2
rules:
  - {{name: everything, compress: same_as}}
"""
"""Every output goes through a compressing rule that leaves these texts as they are, so only
token mode's retirements show."""


@pytest.fixture(autouse=True)
def fresh_memo():
    pipeline.clear_memo()


def rules_with(tmp_path, step: int = 1):
    return fake_rules(tmp_path, TOKEN_RULES.format(step=step))


def token(calls, rules):
    text = raw(anthropic_body(calls))
    return compress_body(text, json.loads(text), ANTHROPIC, rules, "token")


def filler(n: int, start: int = 0):
    return [("Bash", {"command": f"echo {i}"}, f"{i}") for i in range(start, start + n)]


def test_a_command_run_again_retires_its_earlier_output(tmp_path):
    calls = [("Bash", {"command": "pytest -q", "description": "run the tests"}, TEST_RUN_1),
             ("Bash", {"command": "pytest -q", "description": "run them again", "timeout": 60}, TEST_RUN_2)]
    outcome = token(calls, rules_with(tmp_path))
    first, second = outcome.outputs
    assert first.text.startswith("[headroom: stale Bash output superseded by the same call made later, in toolu_01 #")
    assert TEST_RUN_1 in outcome.originals.values()
    assert second.text == TEST_RUN_2


def test_a_different_command_retires_nothing(tmp_path):
    calls = [("Bash", {"command": "pytest -q"}, TEST_RUN_1), ("Bash", {"command": "pytest -q -x"}, TEST_RUN_2)]
    assert [o.text for o in token(calls, rules_with(tmp_path)).outputs] == [TEST_RUN_1, TEST_RUN_2]


def test_an_old_read_the_agent_stopped_naming_is_retired(tmp_path):
    read = ("Read", {"file_path": "/src/headers.py"}, MODULE)
    outcome = token([read] + filler(5), rules_with(tmp_path))
    assert outcome.outputs[0].text.startswith(
        "[headroom: stale read of /src/headers.py retired: old, and not named by a call lately #")
    assert MODULE in outcome.originals.values()


@pytest.mark.parametrize("naming_call", [
    ("Bash", {"command": "grep -n decode /src/headers.py"}, "3: return decode_field"),  # its file
    ("Bash", {"command": "grep -rn parse_header_7 tests/"}, "tests/t.py:1: parse_header_7"),  # its identifier
])
def test_an_old_read_the_agent_still_names_is_kept(tmp_path, naming_call):
    read = ("Read", {"file_path": "/src/headers.py"}, MODULE)
    # 4 tool turns old after the 5th; named in the 5th: never quiet for 2 turns once old
    outcome = token([read] + filler(3) + [naming_call] + filler(1, start=3), rules_with(tmp_path))
    assert outcome.outputs[0].text == MODULE


def test_a_plain_word_does_not_keep_a_read(tmp_path):
    read = ("Read", {"file_path": "/src/headers.py"}, MODULE)
    outcome = token([read] + filler(3) + [("Bash", {"command": "echo return raw"}, "return raw")]
                    + filler(1, start=3), rules_with(tmp_path))
    assert outcome.outputs[0].text.startswith("[headroom: stale read of /src/headers.py")


def test_earlier_turns_change_only_when_a_request_crosses_a_checkpoint(tmp_path):
    rules = rules_with(tmp_path, step=5)
    calls = ([("Bash", {"command": "pytest -q"}, TEST_RUN_1), ("Read", {"file_path": "/src/headers.py"}, MODULE)]
             + filler(4) + [("Bash", {"command": "pytest -q"}, TEST_RUN_2)] + filler(20, start=4))
    sent = [[o.text for o in token(calls[:n], rules).outputs] for n in range(1, len(calls) + 1)]
    changed_at = [n for n in range(1, len(sent)) if sent[n][: len(sent[n - 1])] != sent[n - 1]]
    assert changed_at and all((n + 1) % 5 == 0 for n in changed_at)  # requests of 5, 10, 15... tool turns
    # the test run is superseded at the first checkpoint after the second run (turn 7: at 10)
    assert sent[8][0] == TEST_RUN_1 and sent[9][0].startswith("[headroom: stale Bash output")


def test_once_retired_an_output_stays_retired_even_when_named_again(tmp_path):
    rules = rules_with(tmp_path, step=5)
    read = ("Read", {"file_path": "/src/headers.py"}, MODULE)
    # retired at the checkpoint of turn 5; named in turn 10, just before the next checkpoint
    calls = [read] + filler(8) + [("Bash", {"command": "cat /src/headers.py | wc -l"}, "80")] + filler(10, start=8)
    retired = [token(calls[:n], rules).outputs[0].text.startswith("[headroom: stale") for n in (10, 15, 20)]
    assert retired == [True, True, True]


def test_a_short_conversation_is_left_as_cache_mode_leaves_it(tmp_path):
    calls = [("Bash", {"command": "pytest -q"}, TEST_RUN_1), ("Bash", {"command": "pytest -q"}, TEST_RUN_2)]
    text = raw(anthropic_body(calls))
    cache = compress_body(text, json.loads(text), ANTHROPIC, load_rules(None), "cache")
    token_mode = compress_body(text, json.loads(text), ANTHROPIC, load_rules(None), "token")
    assert token_mode.text == cache.text  # the shipped rules' first checkpoint is 15 tool turns in
