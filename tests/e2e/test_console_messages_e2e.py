"""What mitmdump's console tells a user, read from a real mitmdump: a bad rules file in one clear
line, an empty one said to turn compression off, a flow log that takes no writes never announced
as written to, and no part of a ``?key=`` secret on a request line."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import payloads
from .clients import anthropic_client, httpx_client
from .conftest import StartProxy
from .fake_provider import FakeProvider
from .harness import ProxyStartError
from .test_compression_e2e import headroom

pytestmark = pytest.mark.e2e

GEMINI_KEY = "AIzaSyCONSOLEq2Wm5Zr9Tk3Lp7Vn1Bd4Hf6Xy8"
GEMINI_URL = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent"


def test_a_bad_rules_file_stops_mitmdump_with_its_file_and_line_and_no_traceback(
    start_proxy: StartProxy, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: logs\n    tool: Bash\n    compres: [squeeze]\n")

    with pytest.raises(ProxyStartError) as failure:
        start_proxy(options={"headroom_rules": str(rules)})

    output = str(failure.value)
    assert f"{rules}:4:" in output and "compres" in output, output
    assert "Traceback" not in output, output


def test_an_empty_rules_file_says_compression_is_off(
    start_proxy: StartProxy, fake: FakeProvider, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("# nothing yet\n")

    proxy = start_proxy(options={"headroom_rules": str(rules)})
    assert f"{rules} holds no rules: compression is off" in proxy.output(), proxy.output()

    client, sent = anthropic_client()
    client.messages.create(model="claude-sonnet-4-5", max_tokens=16, messages=payloads.anthropic_messages(),
                           tools=payloads.ANTHROPIC_RETRIEVE)
    assert fake.only_request("/v1/messages").body == sent.only()  # what it said is so


@contextlib.contextmanager
def _immutable(path: Path) -> Iterator[None]:
    """A file nobody may write, root included (tests run as root: modes do not stop it)."""
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available on this file system")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@contextlib.contextmanager
def _full_file_system(folder: Path) -> Iterator[Path]:
    """A small tmpfs at ``folder`` holding a flow log, then filled to the last byte."""
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        log = folder / "flows.db"
        assert headroom("db", "upgrade", str(log)).returncode == 0
        with open(folder / "filler", "wb") as filler, contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        yield log
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@pytest.mark.parametrize("kind", ["read-only file", "full disk"])
def test_a_flow_log_that_takes_no_writes_is_never_announced_as_written_to(
    start_proxy: StartProxy, fake: FakeProvider, tmp_path: Path, kind: str
) -> None:
    if kind == "read-only file":
        log = tmp_path / "flows.db"
        assert headroom("db", "upgrade", str(log)).returncode == 0
        unwritable: contextlib.AbstractContextManager[object] = _immutable(log)
    else:
        unwritable = _full_file_system(tmp_path / "small")
    with unwritable as made:
        log = made if isinstance(made, Path) else log
        proxy = start_proxy(options={"headroom_db": str(log)})
        client, _ = anthropic_client()
        message = client.messages.create(model="claude-sonnet-4-5", max_tokens=16,
                                         messages=[{"role": "user", "content": "hi"}])
        assert message.content[0].text == "Hello from the fake."
        output = proxy.output()
        proxy.process.stop()

    assert "flow log: writing to" not in output, output
    said = (f"flow log: {log} does not take writes", f"flow log disabled: cannot use {log}")
    assert any(line in output for line in said), output


def test_the_console_shows_no_part_of_a_key_in_the_url(
    start_proxy: StartProxy, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # mitmdump cuts a request line at the terminal's width less 25, wherever that falls: a wide
    # terminal shows the whole URL
    monkeypatch.setenv("COLUMNS", "1000")
    proxy = start_proxy()

    with httpx_client() as client:
        response = client.post(GEMINI_URL, params={"key": GEMINI_KEY}, headers={"content-type": "application/json"},
                               content=payloads.compact_json({"contents": payloads.gemini_contents()}))
    assert response.status_code == 200
    assert fake.requests[0].query["key"] == [GEMINI_KEY]  # the provider still gets it

    output = proxy.output()
    assert "generateContent" in output, output  # the request line was printed
    assert GEMINI_KEY[:6] not in output, output
