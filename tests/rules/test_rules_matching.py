"""Which rule decides, and what extending the shipped rules does."""

from __future__ import annotations

from headroom_mitm.rules import BUILTIN_HOSTS, load_rules
from rules_fakes import FAKE_REGISTRY, output, write

RULES = """\
protected_tools: ["mcp__vault__*"]
verbatim_tools: [Write]
rules:
  - name: errors
    is_error: true
    compress: keep
  - name: github-json
    tool: "mcp__github__*"
    kind: json
    compress: json_table
  - name: big-json
    kind: json
    min_tokens: 100
    compress: {json_sample: {max_items: 5}}
  - name: claude-logs
    kind: log
    model: "claude-*"
    provider: anthropic
    compress: [dedupe, log]
  - name: old
    min_age: 10
    compress: json_sample
"""


def rules(tmp_path, text: str = RULES):
    return load_rules(write(tmp_path, text), FAKE_REGISTRY)


def test_first_matching_rule_wins(tmp_path):
    rule_set = rules(tmp_path)
    decision = rule_set.decide(output("mcp__github__list_issues"), "json", 500, "m")
    assert (decision.action, decision.compressor) == ("compress", "json_table")
    assert decision.rule == "rules.yaml:7 (github-json)"
    decision = rule_set.decide(output("fetch"), "json", 500, "m")
    assert decision.compressor == "json_sample" and decision.params["json_sample"]["max_items"] == 5


def test_a_rule_that_names_keep_stops_the_search(tmp_path):
    decision = rules(tmp_path).decide(output("mcp__github__x", is_error=True), "json", 500, "m")
    assert decision.action == "keep" and decision.rule.endswith("(errors)")


def test_tool_globs_ignore_case(tmp_path):
    decision = rules(tmp_path).decide(output("MCP__GitHub__search"), "json", 10, "m")
    assert decision.compressor == "json_table"


def test_size_model_and_provider_conditions(tmp_path):
    rule_set = rules(tmp_path)
    assert rule_set.decide(output("x"), "json", 99, "m").action == "keep"
    assert rule_set.decide(output("x"), "log", 5, "claude-opus-4").compressor == "dedupe+log"
    assert rule_set.decide(output("x"), "log", 5, "gpt-5").action == "keep"
    assert rule_set.decide(output("x", provider="openai-chat"), "log", 5, "claude-x").action == "keep"


def test_a_chain_carries_each_steps_parameters(tmp_path):
    decision = rules(tmp_path).decide(output("x"), "log", 5, "claude-opus-4")
    assert [s.name for s in decision.steps] == ["dedupe", "log"]
    assert decision.params == {"dedupe": {}, "log": {"context": 2}}


def test_protected_and_verbatim_tools_come_before_any_rule(tmp_path):
    rule_set = rules(tmp_path)
    assert rule_set.decide(output("mcp__vault__get"), "json", 500, "m").action == "protect"
    assert rule_set.decide(output("write"), "json", 500, "m").action == "verbatim"


def test_age_conditions_only_match_when_an_age_is_given(tmp_path):
    rule_set = rules(tmp_path)
    assert rule_set.decide(output("x"), "text", 5, "m", mode="cache", age=0).action == "keep"
    assert rule_set.decide(output("x"), "text", 5, "m", mode="token", age=12).compressor == "json_sample"


def test_size_and_age_bounds_are_inclusive(tmp_path):
    rule_set = rules(tmp_path, "rules:\n"
                     "  - {name: small, max_tokens: 40, compress: dedupe}\n"
                     "  - {name: big, min_tokens: 100, compress: json_table}\n"
                     "  - {name: old, min_age: 10, compress: log}\n")
    assert rule_set.decide(output("x"), "text", 40, "m").rule.endswith("(small)")
    assert rule_set.decide(output("x"), "text", 41, "m").action == "keep"
    assert rule_set.decide(output("x"), "text", 100, "m").rule.endswith("(big)")
    assert rule_set.decide(output("x"), "text", 99, "m").action == "keep"
    assert rule_set.decide(output("x"), "text", 50, "m", mode="token", age=10).rule.endswith("(old)")
    assert rule_set.decide(output("x"), "text", 50, "m", mode="token", age=9).action == "keep"


def test_mode_condition(tmp_path):
    rule_set = rules(tmp_path, "rules:\n  - mode: token\n    compress: dedupe\n")
    assert rule_set.decide(output("x"), "text", 5, "m", mode="cache").action == "keep"
    assert rule_set.decide(output("x"), "text", 5, "m", mode="token").compressor == "dedupe"


def test_extending_the_default_puts_user_rules_first_and_unions_lists(tmp_path):
    default = load_rules(None)
    text = ("extends: default\nhosts: [llm.internal.example]\nprotected_tools: [Secret*]\n"
            "verbatim_tools: [Notes]\nrules:\n  - name: mine\n    kind: json\n    compress: json_table\n")
    merged = load_rules(write(tmp_path, text))
    assert merged.rules[0].label == "rules.yaml:6 (mine)"
    assert [r.label for r in merged.rules[1:]] == [r.label for r in default.rules]
    assert merged.provider_hosts == default.provider_hosts | {"llm.internal.example"}
    assert set(default.protected_tools) | {"Secret*"} == set(merged.protected_tools)
    assert set(default.verbatim_tools) | {"Notes"} == set(merged.verbatim_tools)
    assert merged.sources == ("default.yaml", "rules.yaml")


def test_a_file_without_extends_replaces_the_default(tmp_path):
    rule_set = load_rules(write(tmp_path, "hosts: [llm.internal.example]\n"), FAKE_REGISTRY)
    assert rule_set.rules == ()
    assert rule_set.provider_hosts == BUILTIN_HOSTS | {"llm.internal.example"}


def test_file_tools_recognise_reads_writes_and_cat(tmp_path):
    text = ("files:\n  read_tools: [Read]\n  write_tools: [Edit]\n  shell_tools: [bash]\n"
            "  path_arguments: [file_path]\n")
    files = load_rules(write(tmp_path, text), FAKE_REGISTRY).files
    assert files.access("Read", {"file_path": "/a.py"}) == ("read", "/a.py")
    assert files.access("edit", {"file_path": "/a.py", "old_string": "x"}) == ("write", "/a.py")
    assert files.access("Bash", {"command": "cat -n src/a.py"}) == ("read", "src/a.py")
    assert files.access("Bash", {"command": "cat a.py | head"}) is None
    assert files.access("Grep", {"file_path": "/a.py"}) is None
