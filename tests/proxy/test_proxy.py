"""The addon's hooks in mitmproxy's test context: what reaches upstream and what is logged."""

import json
import logging
import sqlite3
from pathlib import Path

import pytest
import zstandard
from mitmproxy import exceptions
from mitmproxy.test import taddons, tflow, tutils

from headroom_mitm.addon.proxy import HeadroomAddon

# Long enough that the default rules act on it; colour codes carry nothing for a model.
ANSI_RESULT = "".join(f"\x1b[32mok\x1b[0m compiled module_{i}.o in {i * 7} ms\n" for i in range(40))


def _anthropic_body(result_text: str = ANSI_RESULT) -> dict:
    """With the retrieve tool declared, as an agent with `headroom mcp` registered sends it."""
    return {
        "model": "claude-test",
        "tools": [{"name": "mcp__headroom__headroom_retrieve", "input_schema": {"type": "object"}}],
        "messages": [
            {"role": "user", "content": "build it"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "make"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": result_text}]},
        ],
    }


def _hello(sni):
    """The part of mitmproxy's ClientHelloData the addon reads and writes."""
    return type("Hello", (), {"client_hello": type("CH", (), {"sni": sni})(), "ignore_connection": False})()


def _flow(host: str, path: str, content: bytes, scheme: bytes = b"https", headers=()):
    request = tutils.treq(host=host, port=443, scheme=scheme, method=b"POST", path=path.encode(), content=content)
    for name, value in headers:
        request.headers[name] = value
    return tflow.tflow(req=request)


@pytest.fixture
def addon_in_context(tmp_path):
    addon = HeadroomAddon()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, headroom_db=str(tmp_path / "flows.db"))
        yield addon, tctx, tmp_path / "flows.db"
    addon.done()


def _rows(db: Path, sql: str):
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


async def test_tool_output_is_rewritten_and_the_flow_logged(addon_in_context):
    addon, _, db = addon_in_context
    flow = _flow("api.anthropic.com", "/v1/messages", json.dumps(_anthropic_body()).encode())
    await addon.request(flow)
    sent = json.loads(flow.request.content)
    assert "\x1b" not in sent["messages"][2]["content"][0]["content"]
    assert sent["messages"][:2] == _anthropic_body()["messages"][:2]
    flow.response = tutils.tresp(content=json.dumps({"usage": {"input_tokens": 7, "output_tokens": 3}}).encode())
    await addon.response(flow)
    addon.done()
    assert _rows(db, "select provider, usage_output, tool_outputs from flows") == [("anthropic", 3, 1)]
    # the log keeps what the agent produced, not what was sent upstream
    assert _rows(db, "select tool, output from tool_calls") == [("Bash", ANSI_RESULT)]


async def test_other_hosts_over_plain_http_are_left_alone(addon_in_context):
    addon, _, _ = addon_in_context
    content = json.dumps(_anthropic_body()).encode()
    flow = _flow("example.test", "/v1/messages", content, scheme=b"http")
    await addon.request(flow)
    assert flow.request.raw_content == content
    assert flow.id not in addon._flows


@pytest.mark.parametrize(
    "path, content",
    [
        ("/v1/messages", b'{"model": "x", "messages": [ broken'),
        ("/v1/messages", "\ufeff\u00e9\xff".encode("latin-1", "replace")),
        ("/v1/messages/count_tokens", json.dumps(_anthropic_body()).encode()),
        ("/v1/messages", b"[1, 2, 3]"),
    ],
)
async def test_bodies_the_addon_cannot_or_must_not_rewrite_pass_byte_for_byte(addon_in_context, path, content):
    addon, _, _ = addon_in_context
    flow = _flow("api.anthropic.com", path, content)
    await addon.request(flow)
    assert flow.request.raw_content == content


async def test_a_sigv4_signed_body_is_never_modified(addon_in_context):
    addon, _, _ = addon_in_context
    content = json.dumps(_anthropic_body()).encode()
    flow = _flow("api.anthropic.com", "/v1/messages", content,
                 headers=[("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/bedrock/aws4_request")])
    await addon.request(flow)
    assert flow.request.raw_content == content


async def test_mode_off_logs_but_forwards_the_original(addon_in_context):
    addon, tctx, db = addon_in_context
    tctx.configure(addon, headroom_mode="off")
    content = json.dumps(_anthropic_body()).encode()
    flow = _flow("api.anthropic.com", "/v1/messages", content)
    await addon.request(flow)
    assert flow.request.raw_content == content
    flow.response = tutils.tresp(content=b"{}")
    await addon.response(flow)
    addon.done()
    assert _rows(db, "select mode, tool_outputs from flows") == [("off", 1)]


async def test_a_zstd_body_is_rewritten_and_stays_zstd(addon_in_context):
    addon, _, _ = addon_in_context
    content = zstandard.ZstdCompressor().compress(json.dumps(_anthropic_body()).encode())
    flow = _flow("api.anthropic.com", "/v1/messages", content, headers=[("content-encoding", "zstd")])
    await addon.request(flow)
    assert flow.request.headers["content-encoding"] == "zstd"
    decoded = zstandard.ZstdDecompressor().decompressobj().decompress(flow.request.raw_content)
    assert "\x1b" not in json.loads(decoded)["messages"][2]["content"][0]["content"]


def test_tls_to_other_hosts_is_passed_through_unseen(addon_in_context):
    addon, _, _ = addon_in_context

    decisions = {}
    for sni in ("api.openai.com", "github.com", None):
        hello = _hello(sni)
        addon.tls_clienthello(hello)
        decisions[sni] = hello.ignore_connection
    assert decisions == {"api.openai.com": False, "github.com": True, None: True}


def test_bad_option_values_at_startup_are_one_error_line_naming_option_and_value(tmp_path, caplog):
    # mitmproxy prints an error raised while it loads a script with every traceback of its
    # chain; an error logged at startup stops mitmdump all the same, in one line
    addon = HeadroomAddon()
    with taddons.context(addon) as tctx, caplog.at_level(logging.ERROR):
        tctx.configure(addon, headroom_db=str(tmp_path / "f.db"), headroom_mode="fast")
        [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert "headroom_mode='fast'" in error.getMessage() and error.exc_info is None
        assert addon.settings is None  # nothing is intercepted with settings that were refused
    addon.done()


def test_a_bad_option_value_after_startup_is_refused_and_the_settings_in_force_stay(tmp_path):
    addon = HeadroomAddon()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, headroom_db=str(tmp_path / "f.db"))
        in_force = addon.settings
        bad_rules = tmp_path / "rules.yaml"
        bad_rules.write_text("rules:\n  - compress: no_such_compressor\n")
        with pytest.raises(exceptions.OptionsError, match="headroom_rules=.*rules.yaml"):
            tctx.configure(addon, headroom_rules=str(bad_rules))
        assert addon.settings == in_force
    addon.done()


def test_a_host_added_to_the_rules_file_is_intercepted_without_a_restart(tmp_path):
    import os
    import time

    rules = tmp_path / "rules.yaml"
    rules.write_text("extends: default\n")
    addon = HeadroomAddon()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, headroom_db=str(tmp_path / "f.db"), headroom_rules=str(rules))
        hello = _hello("llm.gateway.test")
        addon.tls_clienthello(hello)
        assert hello.ignore_connection

        rules.write_text("extends: default\nhosts: [llm.gateway.test]\n")
        os.utime(rules, (time.time() + 5, time.time() + 5))  # a new mtime even on coarse clocks
        deadline = time.monotonic() + 10
        while True:  # the watcher re-reads the file at most once a second
            hello = _hello("llm.gateway.test")
            addon.tls_clienthello(hello)
            if not hello.ignore_connection or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert not hello.ignore_connection
    addon.done()


async def test_a_resent_conversation_queues_only_its_new_tool_calls(addon_in_context, monkeypatch):
    addon, _, db = addon_in_context
    queued = []
    from headroom_mitm.addon.store import writer

    original_write = writer.write_flows
    monkeypatch.setattr(writer, "write_flows", lambda connection, entries: (queued.extend(entries), original_write(connection, entries))[1])
    first = _anthropic_body()
    second = _anthropic_body()
    second["messages"] += [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_2", "name": "Bash", "input": {"command": "make test"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "content": ANSI_RESULT + "all passed\n"}]},
    ]
    for body in (first, second):
        flow = _flow("api.anthropic.com", "/v1/messages", json.dumps(body).encode())
        await addon.request(flow)
        flow.response = tutils.tresp(content=b"{}")
        await addon.response(flow)
    addon.done()
    assert [[call.call_id for call in entry.tool_calls] for entry in queued] == [["toolu_1"], ["toolu_2"]]
    first_originals, second_originals = (set(entry.originals) for entry in queued)
    assert first_originals and second_originals and not first_originals & second_originals
    assert _rows(db, "select count(*) from originals") == [(len(first_originals | second_originals),)]
    assert _rows(db, "select call_id from tool_calls order by call_id") == [("toolu_1",), ("toolu_2",)]
    assert _rows(db, "select tool_outputs from flows order by id") == [(1,), (2,)]
