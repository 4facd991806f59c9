"""Framings by shape: JSON strings written back the agent's way, and framings a rule file adds."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from headroom_mitm.addon.framing import BUILTIN_FRAMINGS, recognise
from headroom_mitm.rules._json_text import encode_like
from headroom_mitm.addon.pipeline import compress_body
from headroom_mitm.addon.providers import by_name
from headroom_mitm.rules import check_rules, load_rules

OPENAI_CHAT = by_name("openai-chat")


@pytest.mark.parametrize("original, value, expected", [
    (json.dumps("a<b"), "x>y", '"x>y"'),
    ('"a\\u003cb"', "x>y & 'z'", '"x\\u003ey \\u0026 \\u0027z\\u0027"'),  # Jinja's tojson
    ('"caf\\u00e9"', "déjà", '"d\\u00e9j\\u00e0"'),  # ASCII-only JSON
    ('"café"', "déjà", '"déjà"'),
    ('"a\\/b"', "c/d", '"c\\/d"'),
    ('"\\u00E9"', "é<", '"\\u00E9<"'),
])
def test_a_new_value_is_escaped_the_way_the_original_was(original, value, expected):
    assert encode_like(value, original) == expected


@given(st.text(), st.sampled_from(['"a\\u003cb\\u00e9"', '"plain"', '"\\u00E9\\/"', '"é<>"']))
def test_every_rendering_decodes_to_its_value(value, original):
    assert json.loads(encode_like(value, original)) == value


def test_a_json_observation_keeps_everything_but_its_output():
    outer = '{\n  "returncode": 2,\n  "output": "a\\u003cb\\n",\n  "extra": [1, 2.50, "k"]\n}'
    framed = recognise(outer, BUILTIN_FRAMINGS)
    assert framed.framing.name == "observation-json"
    assert [(p.key, p.text) for p in framed.pieces] == [("output", "a<b\n")]
    assert framed.exit_code == 2 and framed.is_error
    assert framed.frame.rebuild({"output": "<short>"}) == \
        '{\n  "returncode": 2,\n  "output": "\\u003cshort\\u003e",\n  "extra": [1, 2.50, "k"]\n}'


@pytest.mark.parametrize("text", [
    '{"output": "no exit code"}',  # an API's JSON, not a command's observation
    '{"returncode": 0, "output": 5}',
    '{"returncode": 0, "output": "cut',
    '["returncode", "output"]',
])
def test_json_that_is_no_observation_is_not_unwrapped(text):
    framed = recognise(text, BUILTIN_FRAMINGS)
    assert framed is None or framed.framing.name not in ("observation-json", "shell-json")


def test_codex_shell_json_reads_its_exit_code_from_metadata():
    framed = recognise('{"output":"fatal: not a git repository\\n","metadata":{"exit_code":128,"duration_seconds":0.1}}',
                       BUILTIN_FRAMINGS)
    assert (framed.framing.name, framed.exit_code, framed.pieces[0].text) == \
        ("shell-json", 128, "fatal: not a git repository\n")


RUNNER_RULES = r"""
extends: default
framings:
  - name: runner
    command: '<run>(?P<command>.*?)</run>'
    output: '\A\[exit (?P<exit_code>-?\d+)\]\n(?P<output>.*)\Z'
    tool: runner
"""


def test_a_rule_file_can_name_a_framing_of_its_own(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(RUNNER_RULES)
    rules = load_rules(str(path))
    assert rules.framings[0].name == "runner" and rules.framings[0].origin == f"{path}:4"
    assert rules.framings[1:] == BUILTIN_FRAMINGS
    log = "\n".join(f"line {n % 7} of the build" for n in range(400))
    body = {"model": "m", "messages": [
        {"role": "user", "content": "build it"},
        {"role": "assistant", "content": "Building. <run>make all</run>"},
        {"role": "user", "content": f"[exit 2]\n{log}"},
    ]}
    raw = json.dumps(body)
    outcome = compress_body(raw, body, OPENAI_CHAT, rules)
    (report,) = outcome.outputs
    assert (report.output.tool_name, report.output.arguments, report.output.exit_code) == \
        ("runner", {"command": "make all"}, 2)
    assert report.output.is_error and report.rule.endswith("(errors)")
    assert OPENAI_CHAT.extract(body) == []  # without the rule file nobody knows this framing


@pytest.mark.parametrize("text, line, fragment", [
    ("framings:\n  - output: '(unclosed'\n", 2, "framing 1: output: bad regular expression"),
    ("framings:\n  - output: '(?P<stdout>.*)'\n", 2, "unknown group 'stdout'"),
    ("framings:\n  - output: 'x'\n    command: '```(.*)```'\n", 3, "needs a (?P<command>...) group"),
    ("framings:\n  - name: both\n    output: 'x'\n    json: {output: out}\n", 2, "exactly one of 'output'"),
    ("framings:\n  - json: {exit_code: rc}\n", 2, "needs output"),
    ("framings:\n  - output: 'x'\n    is_error: maybe\n", 3, "is_error must be true or false"),
    ("framings:\n  - output: 'x'\n    shape: 'y'\n", 3, "unknown key 'shape'"),
    ("framings: {output: x}\n", 1, "framings must be a list"),
])
def test_a_broken_framing_names_file_line_and_problem(tmp_path, text, line, fragment):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    rule_set, errors = check_rules(str(path))
    assert rule_set is None and len(errors) == 1, [str(e) for e in errors]
    assert str(errors[0]).startswith(f"{path}:{line}: ") and fragment in str(errors[0]), str(errors[0])
