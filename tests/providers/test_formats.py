"""Each wire format finds the tool outputs a request carries, with their calls, and nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from headroom_mitm.addon.providers import by_name, for_request
from headroom_mitm.addon.providers._splice import splice
from headroom_mitm.addon.tool_output import ToolOutput

from .conftest import FIXTURES, load_fixture


def at(doc: Any, output: ToolOutput) -> Any:
    for key in output.path:
        doc = doc[key]
    return doc


def summary_of(outputs: list[ToolOutput]) -> list[tuple]:
    return [(o.tool_name, o.call_id, o.text, o.turn, o.part, o.is_error) for o in outputs]


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/v1/messages", "anthropic"),
        ("/v1/messages?beta=true", "anthropic"),
        ("/api/v1/chat/completions", "openai-chat"),
        ("/v1/chat/completions", "openai-chat"),
        ("/openai/deployments/gpt4/chat/completions?api-version=2024-10-21", "openai-chat"),
        ("/v1/responses", "openai-responses"),
        ("/backend-api/codex/responses", "openai-responses"),
        ("/v1beta/models/gemini-2.5-pro:generateContent", "gemini"),
        ("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", "gemini"),
        ("/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4:streamRawPredict", "anthropic"),
        ("/v1/messages/count_tokens", None),
        ("/v1/models", None),
        ("/v1/embeddings", None),
        ("/v1beta/models/gemini-2.5-pro:countTokens", None),
        ("/v1beta/models/text-embedding-004:embedContent", None),
        ("/v1/responses/resp_123", None),
        ("/model/anthropic.claude-v2/invoke", None),
    ],
)
def test_format_is_chosen_by_path_on_any_host(path: str, expected: str | None) -> None:
    for host in ("api.example.com", "openrouter.ai"):
        chosen = for_request(host, path)
        assert (chosen.name if chosen else None) == expected


def test_gemini_model_comes_from_the_url() -> None:
    chosen = for_request("generativelanguage.googleapis.com", "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse")
    assert chosen is not None
    assert chosen.model({"contents": []}) == "gemini-2.5-pro"
    assert chosen.is_streaming({}, "/v1beta/models/gemini-2.5-pro:streamGenerateContent")
    assert not chosen.is_streaming({}, "/v1beta/models/gemini-2.5-pro:generateContent")


def test_by_name_rejects_unknown_formats() -> None:
    with pytest.raises(ValueError, match="unknown wire format"):
        by_name("bedrock")


def test_every_extracted_path_points_at_its_text() -> None:
    for name, fixture in [("anthropic", "anthropic_request.json"), ("openai-chat", "openai_chat_request.json"),
                          ("openai-responses", "openai_responses_request.json"), ("gemini", "gemini_request.json")]:
        doc = load_fixture(fixture)
        outputs = by_name(name).extract(doc)
        assert outputs, name
        for output in outputs:
            assert output.provider == name
            assert at(doc, output) == output.text


# --- Anthropic ---------------------------------------------------------------------------------

def test_anthropic_tool_results_with_their_calls_and_error_flag() -> None:
    doc = load_fixture("anthropic_request.json")
    outputs = by_name("anthropic").extract(doc)
    assert summary_of(outputs) == [
        ("Bash", "toolu_01", "FAILED tests/test_cart.py::test_total - assert 3 == 4\n1 failed, 12 passed", 2, 0, True),
        ("Read", "toolu_02", "logo.png: 64x64 PNG", 2, 1, False),
        ("Grep", "toolu_03", "src/cart.py:10:def total(items):", 4, 0, False),
        ("Grep", "toolu_03", "src/cart.py:22:def total_with_tax(items):", 4, 1, False),
    ]
    assert outputs[0].arguments == {"command": "pytest -q", "description": "Run tests"}
    assert outputs[0].path == ("messages", 2, "content", 0, "content")
    assert outputs[1].path == ("messages", 2, "content", 1, "content", 1, "text")


def test_anthropic_session_hint_old_and_new_user_id_forms() -> None:
    fmt = by_name("anthropic")
    doc = load_fixture("anthropic_request.json")
    assert fmt.session_hint(doc) == "9b8e2c7a-aaaa-bbbb-cccc-ddddeeeeffff"
    new_style = {"metadata": {"user_id": json.dumps({"device_id": "d1", "account_uuid": "a1", "session_id": "s-123"})}}
    assert fmt.session_hint(new_style) == "s-123"
    assert fmt.session_hint({"metadata": {"user_id": "someone"}}) is None
    assert fmt.session_hint({}) is None


def test_anthropic_working_directory_from_the_system_prompt() -> None:
    fmt = by_name("anthropic")
    assert fmt.working_directory(load_fixture("anthropic_request.json")) == "/home/dev/shop"
    assert fmt.working_directory({"system": "Working directory: /tmp/a b\nPlatform: linux"}) == "/tmp/a b"
    assert fmt.working_directory({"system": "no env here"}) is None


def test_anthropic_model_and_streaming() -> None:
    fmt = by_name("anthropic")
    doc = load_fixture("anthropic_request.json")
    assert fmt.model(doc) == "claude-opus-4-6"
    assert fmt.is_streaming(doc, "/v1/messages")
    assert not fmt.is_streaming({"stream": False}, "/v1/messages")


def test_rewrite_changes_only_the_chosen_output() -> None:
    raw = (FIXTURES / "anthropic_request.json").read_text(encoding="utf-8")
    fmt = by_name("anthropic")
    outputs = fmt.extract(json.loads(raw))
    target = outputs[0]
    new_raw = fmt.rewrite(raw, {target.path: "1 failed (test_total)"})
    before, after = raw.split(json.dumps(target.text, ensure_ascii=False)), new_raw.split('"1 failed (test_total)"')
    assert before == after
    reparsed = fmt.extract(json.loads(new_raw))
    assert [o.text for o in reparsed] == ["1 failed (test_total)"] + [o.text for o in outputs[1:]]


# --- OpenAI Chat -------------------------------------------------------------------------------

def test_openai_chat_tool_messages_and_legacy_function() -> None:
    doc = load_fixture("openai_chat_request.json")
    fmt = by_name("openai-chat")
    outputs = fmt.extract(doc)
    assert summary_of(outputs) == [
        ("shell", "call_a", doc["messages"][3]["content"], 3, 0, False),
        ("read_file", "call_b", "# App", 4, 0, False),
        ("read_file", "call_b", "More text", 4, 2, False),
        ("legacy_search", "", "3 hits", 6, 0, False),
    ]
    assert outputs[0].arguments == {"command": "ls -la"}
    assert outputs[3].arguments == "not json"
    assert fmt.session_hint(doc) == "conv-42"
    assert fmt.working_directory(doc) == "/srv/app"
    assert fmt.model(doc) == "openai/gpt-5"


# --- OpenAI Responses --------------------------------------------------------------------------

def test_responses_every_kind_of_call_output() -> None:
    doc = load_fixture("openai_responses_request.json")
    fmt = by_name("openai-responses")
    outputs = fmt.extract(doc)
    assert summary_of(outputs) == [
        ("shell", "call_shell_1", "make: *** [all] Error 2\ncc: error: foo.c: No such file", 4, 0, False),
        ("apply_patch", "call_patch_1", "Success. Updated the following files:\nA foo.c", 6, 0, False),
        ("local_shell", "call_local_1", "foo.c\nMakefile", 8, 0, False),
        ("view_image", "call_view_1", "a.png 10x10", 10, 1, False),
    ]
    assert outputs[0].arguments == {"command": ["bash", "-lc", "make"]}
    assert outputs[1].arguments.startswith("*** Begin Patch")
    assert fmt.working_directory(doc) == "/Users/dev/proj"
    assert fmt.session_hint(doc) == "0199a0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5b"


def test_responses_plain_string_input_has_no_outputs() -> None:
    assert by_name("openai-responses").extract({"model": "gpt-5", "input": "hello"}) == []


def test_responses_websocket_create_message_flat_and_nested() -> None:
    body = load_fixture("openai_responses_request.json")
    fmt = by_name("openai-responses")
    flat = {"type": "response.create", **body}
    nested = {"type": "response.create", "response": body}
    plain = [(o.text, o.tool_name) for o in fmt.extract(body)]
    assert [(o.text, o.tool_name) for o in fmt.extract(flat)] == plain
    nested_outputs = fmt.extract(nested)
    assert [(o.text, o.tool_name) for o in nested_outputs] == plain
    assert nested_outputs[0].path[0] == "response"
    for doc in (flat, nested):
        for output in fmt.extract(doc):
            assert at(doc, output) == output.text
        assert fmt.model(doc) == "gpt-5-codex"
        assert fmt.is_streaming(doc, "/backend-api/codex/responses")


# --- Gemini ------------------------------------------------------------------------------------

def test_gemini_function_responses_matched_by_id_then_name_and_order() -> None:
    doc = load_fixture("gemini_request.json")
    fmt = by_name("gemini", "/v1beta/models/gemini-2.5-pro:generateContent")
    outputs = fmt.extract(doc)
    assert [(o.tool_name, o.arguments, o.call_id, o.text, o.path[5:], o.part) for o in outputs] == [
        ("read_file", {"path": "index.html"}, "rf-1", "<html></html>", ("response", "output"), 0),
        ("run_shell_command", {"command": "git status"}, "", "On branch main", ("response", "output"), 0),
        ("run_shell_command", {"command": "git log -1"}, "", "commit abc", ("response", "result", "stdout"), 0),
        ("run_shell_command", {"command": "git log -1"}, "", "", ("response", "result", "stderr"), 1),
        ("run_shell_command", {"command": "git log -1"}, "", "a", ("response", "lines", 0), 2),
    ]
    assert all(o.turn == 2 for o in outputs)
    assert fmt.working_directory(doc) == "/work/site"
    assert fmt.session_hint(doc) is None


# --- bodies that are not what they claim -------------------------------------------------------

@pytest.mark.parametrize("name", ["anthropic", "openai-chat", "openai-responses", "gemini"])
@pytest.mark.parametrize("doc", [None, [], "text", 3, {}, {"messages": "x", "input": 5, "contents": {}},
                                 {"messages": [None, 1, {"content": [None, {"type": "tool_result"}]}]},
                                 {"contents": [{"parts": [{"functionResponse": None}]}]}])
def test_odd_bodies_yield_nothing_rather_than_crash(name: str, doc: Any) -> None:
    fmt = by_name(name)
    assert fmt.extract(doc) == []
    assert fmt.working_directory(doc) is None
    assert fmt.session_hint(doc) is None
    fmt.model(doc)


def test_rewrite_round_trip_for_every_format() -> None:
    for name, fixture in [("anthropic", "anthropic_request.json"), ("openai-chat", "openai_chat_request.json"),
                          ("openai-responses", "openai_responses_request.json"), ("gemini", "gemini_request.json")]:
        raw = json.dumps(load_fixture(fixture), indent=1, ensure_ascii=False)
        fmt = by_name(name)
        outputs = fmt.extract(json.loads(raw))
        assert fmt.rewrite(raw, {o.path: o.text for o in outputs}) == raw
        shortened = json.loads(splice(raw, {o.path: o.text[:3] for o in outputs}))
        assert [o.text for o in fmt.extract(shortened)] == [o.text[:3] for o in outputs]
