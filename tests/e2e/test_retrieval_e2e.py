"""The way back, end to end: through mitmdump a declared retrieve tool lets a log lose its middle
behind a ref; `headroom mcp` on the proxy's flow log hands that middle back, page by page; the
next request carries the retrieved text as the tool's result, and it arrives as it was sent.

The model's side is played by this test (it reads the ref the provider received and makes the
retrieve call a model would make); the real Claude Code CLI doing the same needs the agents'
harness.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from pathlib import Path

import pytest

from . import payloads
from .clients import anthropic_client
from .conftest import Proxy
from .fake_provider import FakeProvider
from .test_compression_e2e import tool_result_texts

pytestmark = pytest.mark.e2e

HEADROOM = Path(sys.executable).with_name("headroom")
TOOL = "mcp__headroom__headroom_retrieve"
_MARKER = re.compile(r"^\[headroom: log [^\[\]#\n]*#([0-9a-f]{12})\]$", re.M)


@pytest.fixture(scope="module")
def shipped_rules_proxy(start_module_proxy) -> Proxy:
    return start_module_proxy(options={"headroom_rules": ""}, name="retrieval")


def _retrieve_all(db: Path, ref: str) -> tuple[str, int]:
    """What a model gets by calling headroom_retrieve until the pages end, and how many calls."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    async def calls() -> tuple[str, int]:
        params = StdioServerParameters(command=str(HEADROOM), args=["mcp", "--db", str(db)], env=dict(os.environ))
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                pages, offset = [], 0
                deadline = time.monotonic() + 15
                for _ in range(40):
                    result = await session.call_tool("headroom_retrieve", {"ref": ref, "offset": offset})
                    text = "".join(block.text for block in result.content if block.type == "text")
                    if result.isError and time.monotonic() < deadline:  # the log is written off the loop
                        await asyncio.sleep(0.2)
                        continue
                    assert not result.isError, text
                    body, _, note = text.partition("\n[headroom: retrieved characters")
                    pages.append(body if note else text)
                    if "again with offset" not in note:
                        return "".join(pages), len(pages)
                    offset = int(note.rsplit("with offset ", 1)[1].split(" ", 1)[0])
                raise AssertionError("the pages never ended")

    return asyncio.run(calls())


def test_the_model_follows_a_ref_back_to_the_lines_a_marker_dropped(
        shipped_rules_proxy: Proxy, use_proxy, fake: FakeProvider) -> None:
    use_proxy(shipped_rules_proxy)
    log = payloads.varied_log(3000)
    client, sent = anthropic_client()
    first_turns = payloads.anthropic_messages(log)

    client.messages.create(model="claude-retrieval-e2e", max_tokens=256, tools=payloads.ANTHROPIC_RETRIEVE,
                           messages=first_turns)

    [arrived] = tool_result_texts(fake.requests_to("/v1/messages")[-1].json())
    refs = _MARKER.findall(arrived)
    assert refs and len(arrived) < len(log) // 10, "the log was not elided behind a ref"
    retrieved, pages = _retrieve_all(shipped_rules_proxy.db_path, refs[0])
    assert retrieved in log and retrieved not in arrived  # the very lines the marker stood for
    assert len(retrieved) > 16_000 and pages > 1  # a large original comes in pages

    # the model's retrieve call and its result go into the next request, as an agent sends them
    follow_up = first_turns + [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_retrieve", "name": TOOL,
                                           "input": {"ref": refs[0]}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_retrieve", "content": retrieved}]},
    ]
    client.messages.create(model="claude-retrieval-e2e", max_tokens=256, tools=payloads.ANTHROPIC_RETRIEVE,
                           messages=follow_up)

    again = tool_result_texts(fake.requests_to("/v1/messages")[-1].json())
    assert again[0] == arrived, "the earlier turn changed: the prompt cache would miss"
    assert again[1] == retrieved, "the retrieve tool's own output was compressed again"
