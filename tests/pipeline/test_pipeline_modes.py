"""Cache mode never looks ahead; token mode rewrites earlier turns only where it says why."""

from __future__ import annotations

import json

import pytest

from headroom_mitm.addon import pipeline
from headroom_mitm.addon.pipeline import compress_body
from headroom_mitm.addon.providers import by_name
from pipeline_fakes import anthropic_body, fake_rules, raw

ANTHROPIC = by_name("anthropic")
FILE_V1 = "\n".join(f"def f{i}():    return {i}" for i in range(30))
FILE_V2 = FILE_V1.replace("return 7", "return 70")
LOG = "\n".join(f"build step {i} finished without trouble" for i in range(30))

CALLS = [
    ("Log", {"command": "make"}, LOG),
    ("Read", {"file_path": "/src/a.py"}, FILE_V1),
    ("Read", {"file_path": "/src/b.py"}, FILE_V1 + "\n# b"),
    ("Edit", {"file_path": "/src/a.py", "old_string": "return 7"}, "The file /src/a.py has been updated."),
    ("Read", {"file_path": "/src/b.py"}, FILE_V1 + "\n# b"),
    ("Read", {"file_path": "/src/a.py"}, FILE_V2),
]


@pytest.fixture(autouse=True)
def fresh_memo():
    pipeline.clear_memo()


def both_modes(tmp_path):
    rules = fake_rules(tmp_path)
    text = raw(anthropic_body(CALLS))
    return (compress_body(text, json.loads(text), ANTHROPIC, rules, "cache"),
            compress_body(text, json.loads(text), ANTHROPIC, rules, "token"))


def test_token_mode_retires_stale_and_superseded_reads(tmp_path):
    cache, token = both_modes(tmp_path)
    stale = token.outputs[1]
    assert stale.text.startswith("[headroom: stale read of /src/a.py superseded by a later read of it #")
    assert stale.note == "retired (token mode)"
    assert FILE_V1 in token.originals.values()
    assert "read of /src/b.py superseded by a later read" in token.outputs[2].text
    assert "[headroom: stale" not in cache.text


def test_token_mode_changes_earlier_turns_only_when_it_says_so(tmp_path):
    cache, token = both_modes(tmp_path)
    differing = [i for i, (c, t) in enumerate(zip(cache.outputs, token.outputs)) if c.text != t.text]
    explained = [i for i, t in enumerate(token.outputs)
                 if "token mode" in t.note or t.rule.endswith("(old-logs)")]
    assert differing == [0, 1, 2, 4]
    assert set(differing) <= set(explained)
    assert token.outputs[0].text.startswith("build step 0") and "29 lines elided" in token.outputs[0].text
    assert token.tokens_after < cache.tokens_after


def test_an_edited_read_is_kept_until_old_enough_and_a_rewritten_one_goes_at_once(tmp_path):
    rules = fake_rules(tmp_path)
    calls = [("Read", {"file_path": "/a"}, FILE_V1), ("Read", {"file_path": "/b"}, FILE_V1 + "\n# b"),
             ("Edit", {"file_path": "/a"}, "edited"), ("Write", {"file_path": "/b"}, "written"),
             ("Bash", {}, "ok")]
    for n, expected in [(4, [False, True]), (5, [True, True])]:  # the read of /a is 3, then 4 turns old
        text = raw(anthropic_body(calls[:n]))
        token = compress_body(text, json.loads(text), ANTHROPIC, rules, "token")
        assert [o.text.startswith("[headroom: stale") for o in token.outputs[:2]] == expected


def test_the_latest_read_after_an_edit_is_sent_in_full(tmp_path):
    _, token = both_modes(tmp_path)
    assert "return 70" in token.outputs[5].text
    assert "same as call" not in token.outputs[4].text  # its twin was retired, so no reference to it


def test_cache_mode_output_does_not_depend_on_later_turns(tmp_path):
    rules = fake_rules(tmp_path)
    texts = []
    for n in range(1, len(CALLS) + 1):
        text = raw(anthropic_body(CALLS[:n]))
        outcome = compress_body(text, json.loads(text), ANTHROPIC, rules, "cache")
        texts.append([r.text for r in outcome.outputs])
    for shorter, longer in zip(texts, texts[1:]):
        assert longer[: len(shorter)] == shorter


def test_token_mode_leaves_outputs_the_rules_keep(tmp_path):
    rules = fake_rules(tmp_path, "files:\n  read_tools: [Read]\n  path_arguments: [file_path]\n"
                                 "rules:\n  - {tool: Read, compress: keep}\n")
    text = raw(anthropic_body([("Read", {"file_path": "/a"}, FILE_V1), ("Read", {"file_path": "/a"}, FILE_V1)]))
    token = compress_body(text, json.loads(text), ANTHROPIC, rules, "token")
    assert token.text is text
