"""``headroom wrap`` end to end: the real mitmdump it starts (or finds), real clients as its child,
the TLS fake provider upstream."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import payloads
from .conftest import ANSI_ONLY_RULES, StartProxy
from .fake_provider import FakePKI, FakeProvider
from .harness import REDIRECT_SCRIPT, TIKTOKEN_CACHE_DIR, read_rows, wait_for_rows

pytestmark = pytest.mark.e2e

HEADROOM = [sys.executable, "-m", "headroom_mitm.addon.cli"]

# The child: a real agent-like client. Trust and proxy come only from the environment wrap gives it.
AGENT = """
import json, os, sys
import anthropic, httpx
client = anthropic.Anthropic(api_key="sk-ant-api03-test-key-not-secret", max_retries=0)
message = client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=json.loads(sys.argv[1]),
                                 tools=[{"name": "mcp__headroom__headroom_retrieve", "input_schema": {"type": "object"}}])
with httpx.Client() as plain:
    answer = plain.post("https://api.openai.com/v1/chat/completions", json={"model": "gpt-4.1",
        "messages": [{"role": "user", "content": "hi"}]}, headers={"authorization": "Bearer sk-test"})
print(json.dumps({"text": message.content[0].text, "openai": answer.status_code,
                  "proxy": os.environ["HTTPS_PROXY"], "ca": os.environ["SSL_CERT_FILE"]}))
sys.exit(int(sys.argv[2]))
"""

# The child for signals: says it is ready, then reports the signal it gets and exits with 40+N.
WAITER = """
import signal, sys, time
def got(signum, frame):
    print(f"got {signum}", flush=True)
    sys.exit(40 + signum)
for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):
    signal.signal(signum, got)
print("ready", flush=True)
time.sleep(60)
sys.exit(0)
"""


def _wrap_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key.lower() not in (
        "https_proxy", "http_proxy", "all_proxy", "no_proxy", "ssl_cert_file")}
    env["TIKTOKEN_CACHE_DIR"] = str(TIKTOKEN_CACHE_DIR)
    env["HEADROOM_PORT"] = str(_closed_port())  # nothing of ours runs there: wrap must find or start
    env.update(extra)
    return env


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _new_proxy_args(tmp_path: Path, fake: FakeProvider, pki: FakePKI) -> list[str]:
    """A proxy of wrap's own, in front of the fake: the test's redirect script and upstream CA."""
    return [
        "--port", "0", "--confdir", str(tmp_path / "confdir"),
        "--script", str(REDIRECT_SCRIPT), "--set", f"e2e_fake_port={fake.port}",
        "--set", f"ssl_verify_upstream_trusted_ca={pki.ca_cert_path}",
        "--set", f"headroom_db={tmp_path / 'flows.db'}", "--set", f"headroom_rules={ANSI_ONLY_RULES}",
    ]


def _accepts(url: str) -> bool:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        return False
    return True


def test_wrap_starts_a_proxy_for_the_command_and_stops_it(
    fake: FakeProvider, pki: FakePKI, tmp_path: Path
) -> None:
    sent = payloads.anthropic_messages()
    result = subprocess.run(
        [*HEADROOM, "wrap", *_new_proxy_args(tmp_path, fake, pki), "--",
         sys.executable, "-c", AGENT, json.dumps(sent), "3"],
        capture_output=True, text=True, env=_wrap_env(tmp_path), timeout=120,
    )
    assert result.returncode == 3, result.stderr
    child = json.loads(result.stdout)
    assert child["text"] == "Hello from the fake." and child["openai"] == 200
    assert child["ca"] == str(tmp_path / "confdir" / "headroom-ca-bundle.pem")
    # compressed on the way, logged, and the proxy is gone with the command
    upstream = fake.only_request("/v1/messages")
    texts = set(_strings(json.loads(upstream.body)))
    assert payloads.strip_ansi(payloads.TOOL_TEXT) in texts and payloads.TOOL_TEXT not in texts
    assert len(wait_for_rows(tmp_path / "flows.db", "flows", 2)) == 2
    assert not _accepts(child["proxy"]), "the proxy wrap started still listens"
    assert "HTTPS_PROXY" not in os.environ or os.environ["HTTPS_PROXY"] != child["proxy"]


def test_wrap_reuses_the_running_proxy_and_leaves_it_running(
    start_proxy: StartProxy, fake: FakeProvider, tmp_path: Path
) -> None:
    proxy = start_proxy()
    port = proxy.url.rsplit(":", 1)[1]
    result = subprocess.run(
        [*HEADROOM, "wrap", sys.executable, "-c", AGENT, json.dumps(payloads.anthropic_messages()), "0"],
        capture_output=True, text=True, env=_wrap_env(tmp_path, HEADROOM_PORT=port), timeout=120,
    )
    assert result.returncode == 0, result.stderr
    child = json.loads(result.stdout)
    assert child["proxy"] == proxy.url
    assert child["ca"] == str(proxy.process.confdir / "headroom-ca-bundle.pem")
    assert len(wait_for_rows(proxy.db_path, "flows", 2)) == 2
    assert proxy.process.wait_exit(0) is None and _accepts(proxy.url)


def test_wrap_finds_a_proxy_on_another_port_through_its_run_file(
    start_proxy: StartProxy, tmp_path: Path
) -> None:
    proxy = start_proxy()  # HEADROOM_PORT names a closed port: only the run file tells where it is
    result = subprocess.run(
        [*HEADROOM, "wrap", sys.executable, "-c", "import os; print(os.environ['HTTPS_PROXY'])"],
        capture_output=True, text=True, env=_wrap_env(tmp_path), timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == proxy.url


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1])
def test_wrap_forwards_signals_and_returns_the_child_exit_code(
    fake: FakeProvider, pki: FakePKI, tmp_path: Path, signum: int
) -> None:
    wrap = subprocess.Popen(
        [*HEADROOM, "wrap", *_new_proxy_args(tmp_path, fake, pki), "--", sys.executable, "-c", WAITER],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_wrap_env(tmp_path),
        stdin=subprocess.DEVNULL, start_new_session=True,  # no terminal: wrap alone must forward ^C
    )
    try:
        assert wrap.stdout.readline().strip() == "ready", wrap.stderr.read() if wrap.poll() is not None else ""
        run_files = list((Path(os.environ["HEADROOM_HOME"]) / "run").glob("*.json"))
        proxy_pids = {int(json.loads(path.read_text())["pid"]) for path in run_files}
        wrap.send_signal(signum)
        out, _ = wrap.communicate(timeout=30)
    finally:
        if wrap.poll() is None:
            wrap.kill()
    assert out.strip() == f"got {signum}"
    assert wrap.returncode == 40 + signum
    time.sleep(0.2)
    alive = [pid for pid in proxy_pids if _alive(pid) and _is_wrap_proxy(pid, tmp_path)]
    assert alive == [], "the proxy wrap started outlived it"


def test_a_child_killed_by_a_signal_gives_128_plus_it(tmp_path: Path, start_proxy: StartProxy) -> None:
    proxy = start_proxy()
    result = subprocess.run(
        [*HEADROOM, "wrap", sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"],
        capture_output=True, text=True, env=_wrap_env(tmp_path, HEADROOM_PORT=proxy.url.rsplit(":", 1)[1]),
    )
    assert result.returncode == 128 + signal.SIGKILL


def test_a_missing_command_gives_127_and_stops_the_proxy(
    fake: FakeProvider, pki: FakePKI, tmp_path: Path
) -> None:
    before = set((Path(os.environ["HEADROOM_HOME"]) / "run").glob("*.json"))
    result = subprocess.run(
        [*HEADROOM, "wrap", *_new_proxy_args(tmp_path, fake, pki), "--", "no-such-command-here"],
        capture_output=True, text=True, env=_wrap_env(tmp_path), timeout=120,
    )
    assert result.returncode == 127 and "command not found: no-such-command-here" in result.stderr
    assert set((Path(os.environ["HEADROOM_HOME"]) / "run").glob("*.json")) <= before


def _strings(value: object):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _is_wrap_proxy(pid: int, tmp_path: Path) -> bool:
    try:
        return str(tmp_path) in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return False


def test_env_prints_where_the_running_proxy_listens(start_proxy: StartProxy, tmp_path: Path) -> None:
    proxy = start_proxy()  # on a port of its own; HEADROOM_PORT names another, closed one
    printed = subprocess.run([*HEADROOM, "env", "--json"], capture_output=True, text=True,
                             env=_wrap_env(tmp_path), timeout=60)
    assert printed.returncode == 0, printed.stderr
    variables = json.loads(printed.stdout)
    assert variables["HTTPS_PROXY"] == variables["https_proxy"] == proxy.url
    assert variables["NODE_EXTRA_CA_CERTS"] == str(proxy.process.mitmproxy_ca)
    assert printed.stderr == ""
