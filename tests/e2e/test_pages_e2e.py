"""The proxy's own pages through a real mitmdump: answered by the addon, never sent upstream,
and telling the truth about the flow log."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from headroom_mitm.addon.pages import registry

from . import payloads
from .clients import anthropic_client, httpx_client, openai_client
from .conftest import Proxy, StartProxy
from .fake_provider import FakeProvider
from .harness import ProxyStartError, wait_for_rows

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _through(proxy: Proxy, path: str, scheme: str = "http") -> httpx.Response:
    # verify= the same bundle the agents are given: an https page is signed by mitmproxy's CA
    with httpx.Client(proxy=proxy.url, verify=ssl.create_default_context(cafile=proxy.ca_bundle), timeout=10, trust_env=False) as client:
        return client.get(f"{scheme}://headroom.invalid{path}")


def _send_mixed_traffic() -> int:
    anthropic, _ = anthropic_client()
    for _ in range(2):
        anthropic.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=payloads.anthropic_messages(),
                                  tools=payloads.ANTHROPIC_RETRIEVE)
    with anthropic.messages.stream(model="claude-haiku-4-5", max_tokens=64, messages=payloads.anthropic_messages(),
                                   tools=payloads.ANTHROPIC_RETRIEVE) as s:
        s.get_final_text()
    openai, _ = openai_client()
    openai.chat.completions.create(model="gpt-4.1", messages=payloads.openai_chat_messages(),
                                   tools=payloads.OPENAI_CHAT_RETRIEVE)
    # a body the addon cannot read: forwarded as it is, and counted as a rewrite error
    with httpx_client() as client:
        client.post("https://api.anthropic.com/v1/messages", content=b"{not json",
                    headers={"content-type": "application/json", "x-api-key": "sk-ant-test"})
    return 5


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_metrics_counters_match_the_flow_log(start_proxy: StartProxy, fake: FakeProvider) -> None:
    status_port = _free_port()
    proxy = start_proxy(options={"headroom_status": f"127.0.0.1:{status_port}"})
    rows = wait_for_rows(proxy.db_path, "flows", _send_mixed_traffic())

    through_proxy = _through(proxy, "/metrics")
    assert through_proxy.status_code == 200
    assert through_proxy.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(through_proxy.text)
    direct = httpx.get(f"http://127.0.0.1:{status_port}/metrics", timeout=10, trust_env=False)
    assert _samples(direct.text) == samples, "the status port serves other numbers than the proxy"

    expected: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
    for row in rows:
        labels = (("model", row["model"]), ("provider", row["provider"]))
        expected[("headroom_requests_total", labels)] += 1
        if row["tokens_before"] is not None and row["tokens_after"] is not None:
            expected[("headroom_tokens_before_total", labels)] += row["tokens_before"]
            expected[("headroom_tokens_after_total", labels)] += row["tokens_after"]
            expected[("headroom_tokens_saved_total", labels)] += row["tokens_before"] - row["tokens_after"]
        for column, metric in (("usage_input", "usage_input_tokens"), ("usage_output", "usage_output_tokens"),
                               ("usage_cache_read", "cache_read_tokens"), ("usage_cache_write", "cache_write_tokens")):
            if row[column]:
                expected[(f"headroom_{metric}_total", labels)] += row[column]
        if row["cost_usd"] is not None:
            expected[("headroom_billed_usd_total", labels)] += row["cost_usd"]
            expected[("headroom_saved_billed_tokens_total", labels)] += row["saved_tokens"] or 0
        elif row["usage_input"] is not None:
            expected[("headroom_unpriced_requests_total", labels)] += 1
        if row["cache_miss"]:
            expected[("headroom_cache_misses_total", labels + (("cause", row["cache_miss"]),))] += 1
        if row["error"] and "body is not JSON" in row["error"]:
            expected[("headroom_rewrite_errors_total", labels)] += 1
        expected[("headroom_request_latency_seconds_count", labels)] += 1
        expected[("headroom_request_latency_seconds_sum", labels)] += row["latency_ms"] / 1000

    counted = {key: value for key, value in samples.items()
               if key[0].endswith("_total") and key[0].startswith("headroom_") and "flow_log" not in key[0]
               or key[0].startswith("headroom_request_latency_seconds_") and not key[0].endswith("_bucket")}
    assert counted == pytest.approx(dict(expected))
    assert sum(v for (name, _), v in counted.items() if name == "headroom_rewrite_errors_total") == 1
    assert samples[("headroom_tokens_saved_total", (("model", "claude-sonnet-4-5"), ("provider", "anthropic")))] > 0
    assert samples[("headroom_flow_log_failures_total", (("reason", "failed"),))] == 0
    assert ("headroom_info", (("mode", "cache"), ("version", "0.1.0"))) in samples


def test_health_and_stats_are_answered_by_the_addon_never_upstream(
    start_proxy: StartProxy, fake: FakeProvider
) -> None:
    proxy = start_proxy()
    wait_for_rows(proxy.db_path, "flows", _send_mixed_traffic())
    seen_upstream = len(fake.requests)

    health = _through(proxy, "/health").json()
    assert health["service"] == "headroom" and health["status"] == "ok"
    assert health["mode"] == "cache" and health["version"] == "0.1.0"
    assert health["flows"]["recorded"] == 5 and health["database"]["ok"] is True
    assert health["database"]["target"] == str(proxy.db_path)

    stats = _through(proxy, "/stats", scheme="https")
    command = subprocess.run(
        [sys.executable, "-m", "headroom_mitm.addon.cli", "stats", str(proxy.db_path), "--json"],
        capture_output=True, text=True, check=True,
    )
    assert stats.json() == json.loads(command.stdout)
    assert stats.json()["total"]["requests"] == 5

    index = _through(proxy, "/")
    assert index.headers["content-type"].startswith("text/html")
    assert all(f'href="{page}"' in index.text for page in ("/health", "/stats", "/metrics"))
    assert _through(proxy, "/nothing-here").status_code == 404
    assert len(fake.requests) == seen_upstream, "a page request reached the provider"


def test_a_running_proxy_is_found_through_its_run_file_and_status_page(start_proxy: StartProxy) -> None:
    proxy = start_proxy()
    found = [running.proxy_url for running in registry.running_proxies()]
    assert proxy.url in found
    pid_file = registry.run_dir() / f"{proxy.process._process.pid}.json"
    assert pid_file.exists()
    proxy.process.stop()
    assert not pid_file.exists(), "a stopped proxy left its run file behind"
    assert proxy.url not in [running.proxy_url for running in registry.running_proxies()]


@pytest.mark.parametrize("value", ["nonsense", "127.0.0.1:99999"])
def test_a_bad_status_address_stops_startup_naming_it(start_proxy: StartProxy, value: str) -> None:
    with pytest.raises(ProxyStartError) as failure:
        start_proxy(options={"headroom_status": value})
    assert "headroom_status" in str(failure.value) and value in str(failure.value)


def test_a_status_port_already_taken_stops_startup(start_proxy: StartProxy) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(ProxyStartError) as failure:
            start_proxy(options={"headroom_status": f"127.0.0.1:{port}"})
    assert f"headroom_status=127.0.0.1:{port}" in str(failure.value)
    assert "cannot listen" in str(failure.value)
