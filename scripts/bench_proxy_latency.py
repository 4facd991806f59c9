"""Request latency on loopback: straight to a fake provider, through plain mitmdump, and with the addon.

Each request is a ~200 KB Anthropic Messages body: a conversation of tool outputs whose last
output is new every time (as in an agent's next turn), so the addon's memo covers the history
but the new output is processed each time. Responses are small JSON answers.

    .venv/bin/python scripts/bench_proxy_latency.py
    .venv/bin/python scripts/bench_proxy_latency.py --requests 200 --rules rules/default.yaml

Loopback only: the fake provider and both proxies run on 127.0.0.1 and are stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.e2e.fake_provider import FakeProvider, make_test_pki  # noqa: E402
from tests.e2e.harness import Mitmdump, ProxyStartError, mitmdump_command, write_ca_bundle  # noqa: E402

MAX_REQUESTS = 2000
WARMUP_REQUESTS = 5
TARGET_BODY_BYTES = 200_000


def _tool_output(index: int) -> str:
    lines = [
        f"tests/test_module_{index}.py::test_case_{n} \x1b[32mPASSED\x1b[0m [{n % 100:3d}%]"
        if n % 7 else
        f"src/module_{index}.py:{n}: warning: unused variable 'tmp_{n}' (declared at line {n - 3})"
        for n in range(1, 60)
    ]
    return "\n".join(lines)


def build_body(turn: int) -> bytes:
    """A ~200 KB conversation; ``turn`` makes the last tool output unique."""
    messages: list[dict] = [{"role": "user", "content": "Fix the failing tests."}]
    index = 0
    while len(json.dumps(messages)) < TARGET_BODY_BYTES:
        call_id = f"toolu_{index:04d}"
        messages.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": call_id, "name": "Bash", "input": {"command": f"pytest -q {index}"}}]})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": call_id, "content": _tool_output(index)}]})
        index += 1
    messages[-1]["content"][0]["content"] += f"\nrun {turn}: \x1b[31m1 failed\x1b[0m"
    return json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": messages},
                      separators=(",", ":")).encode()


def measure(send: Callable[[bytes], httpx.Response], requests: int) -> list[float]:
    for turn in range(WARMUP_REQUESTS):
        send(build_body(-1 - turn)).raise_for_status()
    bodies = [build_body(turn) for turn in range(requests)]
    timings = []
    for body in bodies:
        started = time.perf_counter()
        send(body).raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60,
                        help=f"timed requests per path (1..{MAX_REQUESTS}; default 60)")
    parser.add_argument("--rules", default="", help="headroom_rules for the addon (default: the shipped rules)")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be between 1 and {MAX_REQUESTS}")

    headers = {"content-type": "application/json", "x-api-key": "sk-ant-bench-not-a-key",
               "anthropic-version": "2023-06-01"}
    print(f"body: {len(build_body(0)) / 1000:.0f} KB, {args.requests} timed requests per path "
          f"after {WARMUP_REQUESTS} warm-up", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="headroom-bench-") as tmp_name:
        tmp = Path(tmp_name)
        pki = make_test_pki(tmp / "pki")
        fake = FakeProvider(pki).start()
        proxies: list[Mitmdump] = []
        results: list[tuple[str, list[float]]] = []
        try:
            with httpx.Client(verify=str(pki.ca_cert_path), timeout=60) as direct:
                def send_direct(body: bytes) -> httpx.Response:
                    return direct.post(
                        f"https://127.0.0.1:{fake.port}/v1/messages", content=body,
                        headers={**headers, "host": "api.anthropic.com"},
                        extensions={"sni_hostname": "api.anthropic.com"},
                    )
                results.append(("direct to the fake provider", measure(send_direct, args.requests)))
                fake.reset()

            for label, with_addon in (("mitmdump, no addon", False), ("mitmdump + headroom addon", True)):
                confdir = tmp / f"confdir-{len(proxies)}"
                confdir.mkdir()
                options = {"headroom_db": str(tmp / "flows.db")} if with_addon else {}
                if with_addon and args.rules:
                    options["headroom_rules"] = args.rules
                proxy = Mitmdump(
                    args=mitmdump_command(confdir, fake.port, pki.ca_cert_path, with_addon=with_addon,
                                          options=options, extra_args=["--set", "flow_detail=0"]),
                    confdir=confdir,
                )
                proxies.append(proxy)
                proxy.start()
                bundle = write_ca_bundle(confdir / "bundle.pem", proxy.mitmproxy_ca)
                with httpx.Client(proxy=proxy.url, verify=str(bundle), timeout=60, trust_env=False) as client:
                    def send_proxied(body: bytes) -> httpx.Response:
                        return client.post("https://api.anthropic.com/v1/messages", content=body, headers=headers)
                    results.append((label, measure(send_proxied, args.requests)))
                proxy.stop()
                fake.reset()
        except ProxyStartError as error:
            print(error, file=sys.stderr)
            return 1
        finally:
            for proxy in proxies:
                proxy.stop()
            fake.stop()

    print(f"{'path':<30} {'median ms':>10} {'p99 ms':>10} {'n':>6}")
    for label, timings in results:
        print(f"{label:<30} {statistics.median(timings):>10.1f} {p99(timings):>10.1f} {len(timings):>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
