"""A broken flow log never breaks traffic; a bad option stops mitmdump with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import payloads
from .clients import anthropic_client
from .conftest import StartProxy
from .fake_provider import FakeProvider
from .harness import ProxyStartError

pytestmark = pytest.mark.e2e


def _unusable_database(tmp_path: Path, kind: str) -> str:
    # Tests run as root here, so file permissions cannot make a database read-only; these two
    # fail for root as well.
    if kind == "not-a-database":
        path = tmp_path / "flows.db"
        path.write_bytes(b"this file is not a SQLite database\n" * 200)
        return str(path)
    if kind == "parent-is-a-file":
        blocker = tmp_path / "blocker"
        blocker.write_text("a file where a directory should be\n")
        return str(blocker / "flows.db")
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["not-a-database", "parent-is-a-file"])
def test_failing_database_leaves_traffic_unharmed(
    start_proxy: StartProxy, fake: FakeProvider, tmp_path: Path, kind: str
) -> None:
    proxy = start_proxy(options={"headroom_db": _unusable_database(tmp_path, kind)})
    client, sent = anthropic_client()

    for _ in range(3):  # more than one, so a writer that dies on the first flow is caught too
        message = client.messages.create(
            model="claude-sonnet-4-5", max_tokens=64, messages=payloads.anthropic_messages(),
            tools=payloads.ANTHROPIC_RETRIEVE,
        )
        assert message.content[0].text == "Hello from the fake."
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=64, tools=payloads.ANTHROPIC_RETRIEVE,
                                messages=payloads.anthropic_messages()) as stream:
        assert stream.get_final_text() == "Hello from the fake."

    assert len(fake.requests_to("/v1/messages")) == 4
    assert fake.requests_to("/v1/messages")[0].body == payloads.with_tool_output_rewritten(sent.requests[0].read())
    assert proxy.process.wait_exit(0) is None, "mitmdump stopped:\n" + proxy.output()


def test_bad_mode_stops_mitmdump_naming_option_and_value(start_proxy: StartProxy) -> None:
    with pytest.raises(ProxyStartError) as failure:
        start_proxy(options={"headroom_mode": "fast"})

    message = str(failure.value)
    assert "exited with code" in message, message
    assert "headroom_mode" in message and "fast" in message, message
