"""The shipped rules load with the installed compressors and are careful where it matters."""

from __future__ import annotations

import pytest

from headroom_mitm.addon.tool_output import ToolOutput
from headroom_mitm.rules import load_rules

# References to text the model has already seen in the conversation (an earlier output, or the
# call's own arguments) lose nothing it can read.
REFERENCES = {"dedupe", "reread", "seen_lines", "call_echo"}


@pytest.fixture(scope="module")
def default():
    return load_rules(None)


def careful(decision, registry) -> bool:
    return all(registry[s.name].is_lossless(s.params) or s.name in REFERENCES for s in decision.steps)


def out(tool: str, arguments=None, is_error: bool = False, text: str = "x" * 4000) -> ToolOutput:
    return ToolOutput(provider="anthropic", path=("messages", 1), text=text, tool_name=tool,
                      arguments=arguments, is_error=is_error)


@pytest.mark.parametrize("tool, arguments", [
    ("Read", {"file_path": "/src/app.py"}),
    ("read_file", {"path": "src/app.py"}),
    ("Edit", {"file_path": "/src/app.py"}),
    ("MultiEdit", {"file_path": "/src/app.py"}),
    ("Write", {"file_path": "/src/app.py"}),
    ("WebFetch", {"url": "https://example.com"}),
    ("WebSearch", {"query": "x"}),
    ("web_search", {"query": "x"}),
])
@pytest.mark.parametrize("kind", ["json", "log", "test", "search", "diff", "file_read", "text"])
@pytest.mark.parametrize("mode, age", [("cache", 0), ("token", 50)])
def test_reads_edits_and_web_results_are_never_lossy(default, tool, arguments, kind, mode, age):
    decision = default.decide(out(tool, arguments), kind, 5000, "claude-opus-4", mode=mode, age=age)
    assert careful(decision, default.registry), decision


@pytest.mark.parametrize("kind", ["json", "log", "test", "search", "diff", "file_read", "text"])
@pytest.mark.parametrize("mode, age", [("cache", 0), ("token", 50)])
def test_error_outputs_are_never_lossy(default, kind, mode, age):
    decision = default.decide(out("Bash", {"command": "pytest"}, is_error=True), kind, 5000, "m", mode=mode, age=age)
    assert careful(decision, default.registry), decision


@pytest.mark.parametrize("mode", ["cache", "token"])
def test_file_contents_are_never_lossy_whatever_the_tool(default, mode):
    decision = default.decide(out("bash", {"command": "cat -n setup.py"}), "file_read", 5000, "m", mode=mode, age=50)
    assert careful(decision, default.registry), decision


def test_the_default_compresses_the_common_kinds(default):
    for kind in ("json", "log", "test", "search", "diff", "text"):
        assert default.decide(out("Bash"), kind, 5000, "m").action == "compress"


@pytest.mark.parametrize("kind", ["log", "test", "json", "search", "diff", "text"])
def test_outputs_of_at_most_40_tokens_only_lose_their_framing(default, kind):
    tiny = default.decide(out("Bash"), kind, 40, "m")
    assert tiny.rule.endswith("(tiny)")
    assert [(step.name, dict(step.params)) for step in tiny.steps] == [("exit_status", {"quiet_success": True})]
    assert not default.decide(out("Bash"), kind, 41, "m").rule.endswith("(tiny)")


def test_the_default_intercepts_the_builtin_hosts(default):
    assert {"api.anthropic.com", "api.openai.com", "chatgpt.com", "generativelanguage.googleapis.com",
            "openrouter.ai"} <= default.provider_hosts


def test_the_readme_example_is_a_valid_rule_file(tmp_path):
    import re

    from headroom_mitm.rules import DEFAULT_RULES_PATH, check_rules

    readme = (DEFAULT_RULES_PATH.parent / "README.md").read_text(encoding="utf-8")
    example = re.search(r"## A full example\n\n```yaml\n(.*?)```", readme, re.S).group(1)
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    rule_set, errors = check_rules(str(path))
    assert errors == []
    line = example.splitlines().index("  - name: github-lists") + 1
    assert rule_set.rules[0].label == f"example.yaml:{line} (github-lists)"
    assert rule_set.credentials.rules[0].spec.name == "my-team-gateway-keys"
