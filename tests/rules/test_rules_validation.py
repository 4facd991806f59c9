"""Every problem in a rule file is reported with its file, its line and what is wrong."""

from __future__ import annotations

import pytest

from headroom_mitm.rules import RulesError, check_rules, load_rules
from rules_fakes import FAKE_REGISTRY, write


def problems(tmp_path, text: str) -> list[RulesError]:
    path = write(tmp_path, text)
    rule_set, errors = check_rules(path, FAKE_REGISTRY)
    assert rule_set is None or not errors
    return errors


def the_problem(tmp_path, text: str) -> RulesError:
    errors = problems(tmp_path, text)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


@pytest.mark.parametrize("text, line, fragment", [
    ("rules:\n  - compress: json_table\n    kinds: json\n", 3, "unknown key 'kinds', did you mean 'kind'?"),
    ("version: 1\nprotect_tools: [Read]\n", 2, "unknown key 'protect_tools'"),
    ("rules:\n  - compress: json_table\n    min_tokens: lots\n", 3, "min_tokens must be an integer, got string 'lots'"),
    ("rules:\n  - compress: json_table\n    is_error: 1\n", 3, "is_error must be true or false"),
    ("rules: {a: 1}\n", 1, "rules must be a list"),
    ("hosts:\n  - api.example.com\n  - https://x.example.com/v1\n", 3, "is not a host name"),
    ("rules:\n\n  - name: t\n    compress: jsn_table\n", 4, "unknown compressor 'jsn_table', did you mean 'json_table'?"),
    ("rules:\n  - compress:\n      json_sample: {max_item: 3}\n", 3, "unknown parameter 'max_item'"),
    ("rules:\n  - compress:\n      json_sample:\n        max_items: many\n", 4, "parameter 'max_items' must be an integer"),
    ("rules:\n  - compress:\n      json_sample: {max_items: true}\n", 3, "must be an integer, got boolean"),
    ("protected_tools:\n  - 'mcp__[abc'\n", 2, "bad glob 'mcp__[abc'"),
    ("rules:\n  - compress: keep\n    tool: 'Read]'\n", 3, "bad glob"),
    ("rules:\n  - compress: keep\n    mode: cach\n", 3, "unknown mode 'cach'"),
    ("rules:\n  - compress: keep\n    kind: jsonish\n", 3, "unknown kind 'jsonish'"),
    ("rules:\n  - compress: keep\n    provider: azure\n", 3, "unknown provider 'azure'"),
    ("rules:\n  - name: no action\n    kind: json\n", 2, "missing 'compress'"),
    ("rules:\n  - compress: [keep, dedupe]\n", 2, "'keep' cannot be combined"),
    ("extends: base\n", 1, "unknown base 'base'"),
    ("version: 2\n", 1, "unsupported version 2"),
    ("rules:\n  - compress: keep\n    compress: dedupe\n", 3, "duplicate key 'compress'"),
    ("token_mode:\n  repeated_calls:\n    tool: [Bash]\n", 3, "unknown key 'tool', did you mean 'tools'?"),
    ("token_mode:\n  repeated_calls:\n    tools: ['Ba[sh']\n", 3, "bad glob 'Ba[sh'"),
    ("token_mode:\n  idle_outputs:\n    idle_turns: 3\n", 3, "idle_outputs needs min_age"),
    ("token_mode:\n  idle_outputs:\n    min_age: -1\n", 3, "min_age must be 0 or more"),
    ("token_mode:\n  step_turns: often\n", 2, "step_turns must be an integer"),
    ("token_mode:\n  idle_outputs: 40\n", 2, "idle_outputs must be a mapping"),
])
def test_each_problem_names_file_line_and_what_is_wrong(tmp_path, text, line, fragment):
    error = the_problem(tmp_path, text)
    path = str(tmp_path / "rules.yaml")
    assert str(error).startswith(f"{path}:{line}: "), str(error)
    assert fragment in str(error)
    assert (error.path, error.line) == (path, line)


def test_unknown_compressor_lists_the_known_ones(tmp_path):
    error = the_problem(tmp_path, "rules:\n  - compress: zip\n")
    assert "known: dedupe, json_sample, json_table, log" in str(error)


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    error = the_problem(tmp_path, "rules:\n  - compress: keep\n    tool: [Read, Edit\n  - compress: keep\n")
    assert str(error).startswith(str(tmp_path / "rules.yaml") + ":")
    assert "YAML syntax error" in str(error)
    assert error.line in (3, 4)


def test_all_problems_are_reported_in_line_order(tmp_path):
    errors = problems(tmp_path, "hosts: [bad host]\nrules:\n  - compress: nope\n  - compress: keep\n    mode: x\n")
    assert [e.line for e in errors] == [1, 3, 5]


def test_load_rules_raises_the_first_problem_and_counts_the_rest(tmp_path):
    path = write(tmp_path, "rules:\n  - compress: nope\n  - compress: zilch\n")
    with pytest.raises(RulesError) as caught:
        load_rules(path, FAKE_REGISTRY)
    assert str(caught.value).startswith(f"{path}:2: unknown compressor 'nope'")
    assert "(and 1 more)" in str(caught.value)
    assert [e.line for e in caught.value.errors] == [2, 3]


def test_a_missing_file_is_a_clear_error(tmp_path):
    path = str(tmp_path / "absent.yaml")
    with pytest.raises(RulesError, match="cannot read the rule file"):
        load_rules(path, FAKE_REGISTRY)


def test_parameters_get_their_defaults_and_accept_an_int_for_a_float(tmp_path):
    path = write(tmp_path, "rules:\n  - compress:\n      json_sample: {ratio: 1}\n")
    rule = load_rules(path, FAKE_REGISTRY).rules[0]
    (step,) = rule.spec.steps
    assert dict(step.params) == {"max_items": 20, "ratio": 1.0}
    assert isinstance(step.params["ratio"], float)


def test_an_empty_file_is_a_valid_rule_set_with_the_builtin_hosts(tmp_path):
    rule_set = load_rules(write(tmp_path, ""), FAKE_REGISTRY)
    assert rule_set.rules == ()
    assert "api.anthropic.com" in rule_set.provider_hosts
