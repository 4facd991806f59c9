"""Token mode through a real mitmdump: a command run again retires its earlier run at the next
checkpoint, the original stays in the flow log, and between checkpoints the bytes hold."""

from __future__ import annotations

from typing import Any

import pytest

from headroom_mitm.rules import load_rules

from . import payloads
from .clients import anthropic_client
from .conftest import Proxy, StartProxy
from .fake_provider import FakeProvider
from .test_compression_e2e import tool_result_texts, wait_for_original

pytestmark = pytest.mark.e2e

STEP = load_rules(None).token_mode.step_turns
FAILING_RUN = "\n".join(f"tests/test_orders.py::test_case_{i} FAILED (expected {i}, got {i + 1})" for i in range(40))
PASSING_RUN = "\n".join(f"tests/test_orders.py::test_case_{i} PASSED" for i in range(40))


def conversation(tool_turns: int) -> list[dict[str, Any]]:
    """A session whose first and sixth tool calls run the same test command, padded with
    other commands up to ``tool_turns`` tool turns."""
    calls = [("pytest -q tests/test_orders.py", FAILING_RUN)]
    calls += [(f"sed -n '{10 * i},{10 * i + 9}p' src/orders.py", f"line {10 * i}: pass") for i in range(1, 5)]
    calls += [("pytest -q tests/test_orders.py", PASSING_RUN)]
    calls += [(f"git show HEAD~{i} --stat", f"commit {i:040x}") for i in range(tool_turns - len(calls))]
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Fix the failing order tests."}]
    for index, (command, output) in enumerate(calls[:tool_turns]):
        call_id = f"toolu_{index:03d}"
        messages.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": call_id, "name": "Bash", "input": {"command": command}}]})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": call_id, "content": output}]})
    return messages


def test_a_repeated_command_s_first_run_is_retired_at_the_checkpoint(start_proxy: StartProxy,
                                                                      fake: FakeProvider) -> None:
    proxy: Proxy = start_proxy(options={"headroom_rules": "", "headroom_mode": "token"})
    client, _ = anthropic_client()

    for tool_turns in (STEP - 1, STEP):
        client.messages.create(model="claude-token-e2e", max_tokens=64, messages=conversation(tool_turns),
                               tools=payloads.ANTHROPIC_RETRIEVE)

    before, at_checkpoint = (tool_result_texts(r.json()) for r in fake.requests_to("/v1/messages"))
    assert before[0] == FAILING_RUN, "token mode changed an earlier turn before the first checkpoint"
    first = at_checkpoint[0]
    assert first.startswith("[headroom: stale Bash output superseded by the same call made later, in toolu_005 #")
    assert at_checkpoint[5].startswith("tests/test_orders.py::test_case_0 PASSED")  # the latest run stays
    ref = first.rstrip("]").rsplit("#", 1)[1]
    assert wait_for_original(ref, proxy.db_path) == FAILING_RUN
