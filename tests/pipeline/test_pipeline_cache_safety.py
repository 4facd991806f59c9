"""On real traces, request k+1 repeats compressed request k byte for byte: the prompt cache hits."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from headroom_mitm.addon import pipeline
from headroom_mitm.addon.pipeline import compress_body
from headroom_mitm.addon.providers import by_name
from pipeline_fakes import fake_rules, trace_bodies
from headroom_mitm.rules import load_rules
from shared_data import data_missing

REQUESTS_PER_TRACE = 40


def _traces():
    data = trace_bodies.shared_data_dir()
    if data is None:
        data_missing(f"trace data not found at {Path(trace_bodies.__file__).resolve().parents[2] / 'shared' / 'data'}")
    claude = [p for p in trace_bodies.claude_code_trace_files() if p.name in ("tool_heavy.jsonl", "short.jsonl")]
    claude += [p for p in trace_bodies.claude_code_trace_files() if "subagents" not in p.parts][:1]
    mini = trace_bodies.mini_swe_trace_files()[:3]
    return ([("anthropic", trace_bodies.claude_code_requests, p) for p in claude]
            + [("openai-chat", trace_bodies.mini_swe_requests, p) for p in mini]
            + [("openai-chat", trace_bodies.mini_swe_text_requests, p) for p in mini])


def _common_prefix(a: list, b: list) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


@pytest.mark.parametrize("which_rules", ["shipped", "fake"])
@pytest.mark.parametrize("mode", ["cache"])
def test_each_request_repeats_the_compressed_previous_one(tmp_path, which_rules, mode):
    rules = load_rules(None) if which_rules == "shipped" else fake_rules(tmp_path)
    pipeline.clear_memo()
    checked = changed = 0
    for provider, builder, path in _traces():
        wire = by_name(provider)
        previous = None
        for body in itertools.islice(builder(path), REQUESTS_PER_TRACE):
            text = json.dumps(body)
            outcome = compress_body(text, json.loads(text), wire, rules, mode)
            compressed = json.loads(outcome.text)
            changed += outcome.changed
            if previous is not None:
                original_prev, compressed_prev = previous
                same = _common_prefix(original_prev["messages"], body["messages"])
                assert compressed["messages"][:same] == compressed_prev["messages"][:same], (
                    f"{path.name}: request repeats the earlier request's first {same} messages, "
                    "but their compressed form changed")
                assert {k: v for k, v in compressed.items() if k != "messages"} == \
                       {k: v for k, v in compressed_prev.items() if k != "messages"}
                checked += 1
            previous = (json.loads(text), compressed)
    assert checked > 50
    assert changed > 0, "the rules compressed nothing, so the test proved nothing"


WIRE_CLIENTS = {
    "mini-swe-agent-2.4.6-default": "anthropic",
    "mini-swe-agent-2.4.6-text": "anthropic",
    "aider-0.86.2": "openai-chat",
    "gemini-cli-0.61.0": "gemini",
    "codex-0.171-http": "openai-responses",
}


@pytest.mark.parametrize("mode", ["cache", "token"])
@pytest.mark.parametrize("client", sorted(WIRE_CLIENTS))
def test_real_clients_get_each_output_sent_the_same_way_in_every_request(client, mode):
    """Whatever the client changes around an output between requests (litellm's cache_control
    block turning into a string, aider moving its file list), the output is sent as it was. The
    recorded tasks are shorter than token mode's checkpoint step, so token mode holds too."""
    bodies = trace_bodies.wire_bodies(client)
    if not bodies:
        data_missing(f"request bodies of {client} not found under ../shared/data/wire")
    wire = by_name(WIRE_CLIENTS[client], "/v1beta/models/gemini-3-pro-preview:streamGenerateContent")
    rules = load_rules(None)
    pipeline.clear_memo()
    sent: dict[tuple, str] = {}
    repeated = changed = 0
    for text in bodies:
        outcome = compress_body(text, json.loads(text), wire, rules, mode)
        for report in outcome.outputs:
            output = report.output
            key = (output.call_id, output.frame.key if output.frame else "", output.part, output.arguments and
                   json.dumps(output.arguments, sort_keys=True))
            if key in sent:
                assert sent[key] == report.text, f"{client}: {output.call_id} changed between requests"
                repeated += 1
            sent[key] = report.text
            changed += report.changed
    assert changed, f"{client}: nothing was compressed, so the test proved nothing"
    assert repeated
