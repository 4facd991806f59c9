"""``headroom doctor`` against real proxies: a mitmdump without the addon, and Headroom itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from . import payloads
from .clients import anthropic_client
from .conftest import StartProxy
from .harness import wait_for_rows

pytestmark = pytest.mark.e2e

_CLEARED = ("NO_PROXY", "no_proxy", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "HEADROOM_PORT", "HEADROOM_HOST")


def _doctor(env: dict[str, str], home: Path) -> dict[str, list[dict]]:
    done = subprocess.run([sys.executable, "-m", "headroom_mitm.addon.cli", "doctor", "--json"],
                          capture_output=True, text=True, env=env, cwd=home, timeout=60)
    by_check: dict[str, list[dict]] = {}
    for result in json.loads(done.stdout)["checks"]:
        by_check.setdefault(result["check"], []).append(result)
    return by_check


def _env(home: Path, **variables: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _CLEARED}
    env.update(HOME=str(home), **variables)
    return env


def test_a_proxy_without_the_addon_fails_the_status_page(start_proxy: StartProxy, tmp_path: Path) -> None:
    plain = start_proxy(with_addon=False)
    home = tmp_path / "home"
    home.mkdir()
    results = _doctor(_env(home, HTTPS_PROXY=plain.url, https_proxy=plain.url), home)
    status = results["status-page"][0]
    assert status["ok"] is False and "that is not the Headroom addon" in status["detail"]
    assert 'mitmdump -s "$(headroom script)"' in status["fix"]
    assert results["proxy"][0]["ok"] is False and "mitmdump" in results["proxy"][0]["detail"]


def test_a_healthy_route_passes_every_route_check(start_proxy: StartProxy, tmp_path: Path) -> None:
    proxy = start_proxy()
    client, _ = anthropic_client()
    client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=payloads.anthropic_messages())
    wait_for_rows(proxy.db_path, "flows", 1)
    home = tmp_path / "home"
    home.mkdir()
    printed = subprocess.run(
        [sys.executable, "-m", "headroom_mitm.addon.cli", "env", "--json", "--proxy", proxy.url],
        capture_output=True, text=True, env=_env(home, HEADROOM_PORT=proxy.url.rsplit(":", 1)[1]), check=True,
    )
    variables = json.loads(printed.stdout)
    assert variables["NODE_EXTRA_CA_CERTS"] == str(proxy.process.mitmproxy_ca), "env did not ask the proxy for its CA"
    results = _doctor(_env(home, **variables), home)
    for check in ("environment", "proxy", "status-page", "ca", "trust", "no-proxy", "agent-route", "flows",
                  "database", "rules"):
        assert all(result["ok"] is True for result in results[check]), results[check]
    assert results["database"][0]["detail"] == f"{proxy.db_path} is writable"
