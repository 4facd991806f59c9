"""Token mode under the shipped rules: what it rewrites, and what it must never do."""

from __future__ import annotations

import json

import pytest

from headroom_mitm.addon import pipeline
from headroom_mitm.addon.compress.call_echo import expand
from headroom_mitm.addon.pipeline import compress_body
from headroom_mitm.addon.providers import by_name
from pipeline_fakes import anthropic_body, raw
from headroom_mitm.rules import load_rules

ANTHROPIC = by_name("anthropic")
CONTENT = "\n".join(f"def handler_{i}(request):\n    return respond(request, {i})" for i in range(40))
WRITE_RESULT = ("The file /src/app.py has been updated. Here's the result of running `cat -n` on a snippet "
                "of the edited file:\n"
                + "\n".join(f"{n:>6}→{line}" for n, line in enumerate(CONTENT.split("\n"), start=1)))
BUILD_LOG = "\n".join(f"Compiling module_{i} took {i * 3} ms" for i in range(120)) + "\nerror: linker failed"
CALLS = [
    ("Bash", {"command": "make build"}, BUILD_LOG),
    ("Write", {"file_path": "/src/app.py", "content": CONTENT}, WRITE_RESULT),
] + [("Bash", {"command": f"echo step {i}"}, f"step {i}") for i in range(45)]
# 47 tool turns: the shipped rules' latest checkpoint (every 15 turns) is at 45, where the log
# is 44 turns old.


@pytest.fixture(autouse=True)
def fresh_memo():
    pipeline.clear_memo()


def run(mode: str, calls=CALLS):
    text = raw(anthropic_body(calls))
    return compress_body(text, json.loads(text), ANTHROPIC, load_rules(None), mode)


@pytest.mark.parametrize("mode", ["cache", "token"])
def test_a_written_file_echoed_back_is_sent_as_a_pointer_to_the_call(mode):
    # the call's own arguments precede its result in every request: a pointer to them is cache-safe
    write = run(mode).outputs[1]
    assert "call_echo lines 1-80 of argument content, numbered 1-80 arrow" in write.text
    assert "def handler_" not in write.text
    assert expand(write.text, write.output.arguments) == WRITE_RESULT


def test_an_old_build_log_keeps_its_head_tail_and_errors_and_the_rest_goes_to_the_originals():
    outcome = run("token")
    log = outcome.outputs[0]
    assert log.rule.endswith("(aged-outputs)")
    assert "Compiling module_0 took 0 ms" in log.text and "error: linker failed" in log.text
    assert "Compiling module_60 took" not in log.text
    assert BUILD_LOG in outcome.originals.values()


def test_the_same_log_while_recent_is_only_folded():
    recent = run("token", CALLS[:3]).outputs[0]
    assert not recent.rule.endswith("(aged-outputs)")


def test_token_mode_is_deterministic_and_never_longer():
    first, second = run("token"), run("token")
    assert first.text == second.text
    for report in first.outputs:
        assert len(report.text) <= len(report.output.text)
        assert report.tokens_after <= report.tokens_before
