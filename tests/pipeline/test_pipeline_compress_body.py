"""compress_body: what rules decide is what reaches the provider, and nothing breaks a request."""

from __future__ import annotations

import json
import logging

import pytest

from headroom_mitm.addon import pipeline
from headroom_mitm.addon.pipeline import compress_body
from headroom_mitm.addon.providers import by_name
from headroom_mitm.addon.providers.anthropic import AnthropicFormat
from pipeline_fakes import RULES, anthropic_body, fake_rules, raw

ANTHROPIC = by_name("anthropic")
SPACED = "a    b    c\n" * 40
LOG = "\n".join(f"line {i} of a long build log with words" for i in range(40))


@pytest.fixture(autouse=True)
def fresh_memo():
    pipeline.clear_memo()


def run(tmp_path, calls, mode="cache", rules=None):
    body = anthropic_body(calls)
    text = raw(body)
    outcome = compress_body(text, json.loads(text), ANTHROPIC, rules or fake_rules(tmp_path), mode)
    return text, outcome


def sent(outcome) -> list[str]:
    """The tool result texts as the provider receives them."""
    doc = json.loads(outcome.text)
    return [block["content"] for m in doc["messages"] if isinstance(m["content"], list)
            for block in m["content"] if block.get("type") == "tool_result"]


def test_outputs_are_compressed_and_only_their_strings_change(tmp_path):
    text, outcome = run(tmp_path, [("Bash", {"command": "x"}, SPACED)])
    assert sent(outcome) == ["a b c\n" * 40]
    assert outcome.tokens_after < outcome.tokens_before
    before, after = json.loads(text), json.loads(outcome.text)
    after["messages"][2]["content"][0]["content"] = SPACED
    assert before == after
    (report,) = outcome.outputs
    line = RULES.splitlines().index("  - {name: everything, compress: [same_as, squeeze]}") + 1
    assert report.changed and report.rule == f"rules.yaml:{line} (everything)"


def test_nothing_to_do_returns_the_very_same_text(tmp_path):
    text, outcome = run(tmp_path, [("Bash", {"command": "x"}, "short")])
    assert outcome.text is text
    assert not outcome.changed and outcome.originals == {}


def test_protected_and_verbatim_tools_are_never_touched(tmp_path):
    text, outcome = run(tmp_path, [("Secret", {}, SPACED), ("Exact", {}, SPACED)])
    assert outcome.text is text
    assert [r.action for r in outcome.outputs] == ["protect", "verbatim"]


def test_a_protected_output_is_never_the_target_of_a_reference(tmp_path):
    _, outcome = run(tmp_path, [("Secret", {}, SPACED), ("Bash", {}, SPACED), ("Bash", {}, SPACED)])
    assert sent(outcome)[1] == "a b c\n" * 40
    assert sent(outcome)[2] == "[headroom: dedupe same as call toolu_01]"


def test_lossy_compression_keeps_what_it_dropped_and_the_original(tmp_path):
    _, outcome = run(tmp_path, [("Log", {}, LOG)])
    assert sent(outcome)[0].startswith("line 0 of") and "[headroom: head 37 lines elided]" in sent(outcome)[0]
    assert LOG in outcome.originals.values()
    assert "\n".join(LOG.splitlines()[3:]) in outcome.originals.values()
    import hashlib

    for digest, content in outcome.originals.items():
        assert hashlib.sha256(content.encode()).hexdigest() == digest


def test_lossless_compression_stores_no_originals(tmp_path):
    _, outcome = run(tmp_path, [("Bash", {}, SPACED)])
    assert outcome.changed and outcome.originals == {}


def test_a_compressor_that_raises_leaves_the_output_unchanged_and_warns_once(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="headroom_mitm.addon.pipeline"):
        text, outcome = run(tmp_path, [("Flaky", {"n": 1}, SPACED), ("Flaky", {"n": 2}, SPACED + "x")])
    assert outcome.text is text
    assert all(r.note == "boom failed: RuntimeError" for r in outcome.outputs)
    warnings = [r for r in caplog.records if "compressor boom raised RuntimeError" in r.getMessage()]
    assert len(warnings) <= 1  # once per compressor and exception type, for the whole process
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_failing_kind_detection_never_says_an_output_it_compresses_was_sent_unchanged(tmp_path, caplog, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("kind detector broke")

    monkeypatch.setattr(pipeline, "detect_kind", broken)
    pipeline._reported_failures.clear()
    with caplog.at_level(logging.WARNING, logger="headroom_mitm.addon.pipeline"):
        _, outcome = run(tmp_path, [("Bash", {"command": "x"}, SPACED)])
    assert sent(outcome) == ["a b c\n" * 40]  # compressed all the same
    [warning] = [r.getMessage() for r in caplog.records if "kind detector broke" in r.getMessage()]
    assert "sent unchanged" not in warning and "compressed as plain text" in warning


def test_a_compressor_that_makes_text_longer_is_ignored(tmp_path):
    text, outcome = run(tmp_path, [("Grow", {}, SPACED)])
    assert outcome.text is text


def test_a_repeated_conversation_is_answered_from_the_memo(tmp_path):
    calls = [("Bash", {"command": str(i)}, SPACED + str(i)) for i in range(5)]
    rules = fake_rules(tmp_path)
    _, first = run(tmp_path, calls, rules=rules)
    assert first.memo_misses == 5
    _, again = run(tmp_path, calls + [("Bash", {"command": "new"}, SPACED + "new")], rules=rules)
    assert (again.memo_hits, again.memo_misses) == (5, 1)
    assert sent(again)[:5] == sent(first)


def test_off_mode_rewrites_nothing(tmp_path):
    text, outcome = run(tmp_path, [("Bash", {}, SPACED)], mode="off")
    assert outcome.text is text and outcome.tokens_before == outcome.tokens_after > 0


def test_an_unknown_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown mode 'fast'"):
        run(tmp_path, [], mode="fast")


def test_a_body_that_cannot_be_written_back_goes_upstream_unchanged(tmp_path):
    class BrokenWire(AnthropicFormat):
        def rewrite(self, raw_text, replacements):
            raise ValueError("cannot splice")

    body = anthropic_body([("Bash", {}, SPACED)])
    text = raw(body)
    outcome = compress_body(text, body, BrokenWire(), fake_rules(tmp_path), "cache")
    assert outcome.text is text and not outcome.changed and outcome.originals == {}
