"""`headroom mcp` over real stdio: the model asks for a ref and gets the original back, in pages."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from pathlib import Path

import pytest

from headroom_mitm.addon.cli.mcp import registration
from headroom_mitm.addon.store import ensure_schema, make_engine, write_originals

HEADROOM = Path(sys.executable).with_name("headroom")
ORIGINAL = "".join(f"line {n}: the build step {n} printed this\n" for n in range(3000))  # ~110 KB
REF = hashlib.sha256(ORIGINAL.encode()).hexdigest()[:12]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def flow_log(request, tmp_path) -> str:
    target = str(tmp_path / "flows.db") if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(target)
    try:
        ensure_schema(engine)
        with engine.begin() as connection:
            write_originals(connection, {hashlib.sha256(ORIGINAL.encode()).hexdigest(): ORIGINAL,
                                         "ab" * 32: "another original"})
    finally:
        engine.dispose()
    return target


async def _session(db: str, calls):
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=str(HEADROOM), args=["mcp", "--db", db], env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await calls(session)


def _text(result) -> str:
    return "".join(block.text for block in result.content if block.type == "text")


def test_the_model_reads_an_original_page_by_page(flow_log):
    async def calls(session):
        tools = (await session.list_tools()).tools
        pages, offset = [], 0
        for _ in range(20):  # bounded: 110 KB at 16 KB a page
            answer = _text(await session.call_tool("headroom_retrieve", {"ref": f"#{REF}", "offset": offset}))
            pages.append(answer)
            if "call headroom_retrieve again with offset" not in answer:
                break
            offset = int(answer.rsplit("with offset ", 1)[1].split(" ", 1)[0])
        return tools, pages

    tools, pages = asyncio.run(_session(flow_log, calls))
    assert [t.name for t in tools] == ["headroom_retrieve"]
    assert set(tools[0].inputSchema["properties"]) == {"ref", "offset", "limit"}
    assert len(pages) > 3
    body = "".join(page.rsplit("\n[headroom: retrieved characters", 1)[0] for page in pages)
    assert body == ORIGINAL


def test_a_whole_short_original_and_clear_errors(flow_log):
    async def calls(session):
        whole = _text(await session.call_tool("headroom_retrieve", {"ref": "abababababab"}))
        missing = await session.call_tool("headroom_retrieve", {"ref": "0123456789ab"})
        malformed = await session.call_tool("headroom_retrieve", {"ref": "not-a-ref"})
        return whole, missing, malformed

    whole, missing, malformed = asyncio.run(_session(flow_log, calls))
    assert whole == "another original"
    assert missing.isError and "nothing is kept under #0123456789ab" in _text(missing)
    assert malformed.isError and "is not a ref" in _text(malformed)


def test_the_registration_setup_writes_for_claude_code_and_codex(tmp_path):
    found = registration(db=str(tmp_path / "team.db"), command="/opt/headroom/bin/headroom")
    assert found.claude_code() == {"type": "stdio", "command": "/opt/headroom/bin/headroom",
                                   "args": ["mcp", "--db", str(tmp_path / "team.db")]}
    assert found.codex_toml() == (f'[mcp_servers.headroom]\ncommand = "/opt/headroom/bin/headroom"\n'
                                  f'args = ["mcp", "--db", "{tmp_path / "team.db"}"]\n')
    import tomllib

    assert tomllib.loads(found.codex_toml())["mcp_servers"]["headroom"]["args"][0] == "mcp"
    assert registration().command.endswith("headroom")
