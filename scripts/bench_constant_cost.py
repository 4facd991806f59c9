#!/usr/bin/env python3
"""What the addon adds to a request, measured against mitmdump with a no-op addon in the same run.

Real Claude Code conversations from ../shared/data/traces are replayed turn by turn, so the
addon's memo is as warm as in a live session. Every figure is the addon arm against a
mitmdump whose only addon does nothing (``noop`` below), arms interleaved request by request (or
round by round for the concurrent phases), reported as medians and ratios:

- warm: each turn of a conversation goes to both arms in turn; the added p50 is the median of
  the per-turn differences, for the turns near 200 KB and near 1 MB. The 1 MB conversation is
  the longest session resumed after the two other long ones (their messages ahead of its own);
  mode ``off`` is a third arm of the same replay;
- concurrent: 8 clients, each its own conversation of ~200 KB turns, requests/s of each arm;
- streams: 30 streamed requests at once, time to the first SSE event;
- behind-cold: a never-seen ~20 MB body, and 1 s later a 1 KB request from another client:
  the small one's latency;
- first: the first request after mitmdump starts (a fresh process per round);
- cold: a never-seen ~1 MB conversation body on a warm proxy.

    .venv/bin/python scripts/bench_constant_cost.py                 # every phase (~5 min idle)
    .venv/bin/python scripts/bench_constant_cost.py --only warm --rounds 1

Loopback only: the fake provider and every mitmdump run on 127.0.0.1 and are stopped at the end;
every loop is bounded. The machine may be shared: read ratios and medians, not single figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(REPO_ROOT.parent / "shared" / "data" / "tiktoken"))

from tests import trace_bodies  # noqa: E402
from tests.e2e.fake_provider import FakeProvider, make_test_pki  # noqa: E402
from tests.e2e.harness import Mitmdump, ProxyStartError, mitmdump_command, write_ca_bundle  # noqa: E402

PHASES = ("warm", "concurrent", "streams", "behind-cold", "first", "cold")
SIZE_BANDS = {"200 KB": (150_000, 260_000), "1 MB": (850_000, 1_250_000)}
HEADERS = {"content-type": "application/json", "x-api-key": "sk-ant-bench-not-a-key",
           "anthropic-version": "2023-06-01"}
URL = "https://api.anthropic.com/v1/messages"
CLIENTS = 8
STREAMS = 30
COLD_BIG_BYTES = 20_000_000
TIMEOUT_S = 180.0
NOOP_ADDON = '''
"""Does nothing on the hooks the headroom addon uses: the baseline's mitmdump pays for them too."""
class Noop:
    async def request(self, flow): pass
    def responseheaders(self, flow): pass
    async def response(self, flow): pass
addons = [Noop()]
'''


# ---- the conversations -------------------------------------------------------------------------

def _long_sessions() -> list[Path]:
    files = [path for path in trace_bodies.claude_code_trace_files() if path.parent.name != "subagents"]
    return sorted(files, key=lambda path: -path.stat().st_size)[:3]


def _bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def conversation(resumed: bool, salt: str = "") -> Iterator[bytes]:
    """The longest session's requests, turn by turn. ``resumed``: the messages of the two other
    long sessions (each at its longest, before a compaction) go ahead of its own, as one
    conversation continued (0.7 to 1.1 MB a turn).
    ``salt`` makes every text new, so no memo knows any of it."""
    longest, *others = _long_sessions()
    history: list[dict[str, Any]] = []
    if resumed:
        for path in others:
            largest = max(trace_bodies.claude_code_requests(path), key=lambda body: len(body["messages"]))
            history += largest["messages"] + [{"role": "assistant", "content": [{"type": "text", "text": "Done."}]}]
    for body in trace_bodies.claude_code_requests(longest):
        messages = history + body["messages"]
        if salt:
            messages = _salted(messages, salt)
        yield _bytes({**body, "messages": messages})


def _salted(value: Any, salt: str) -> Any:
    if isinstance(value, str):
        return f"{salt} {value}" if len(value) > 40 else value
    if isinstance(value, list):
        return [_salted(item, salt) for item in value]
    if isinstance(value, dict):
        return {key: (item if key in ("type", "id", "tool_use_id", "role", "signature") else _salted(item, salt))
                for key, item in value.items()}
    return value


def in_band(body: bytes, band: str) -> bool:
    low, high = SIZE_BANDS[band]
    return low <= len(body) <= high


def client_conversation(client: int) -> list[bytes]:
    """Client ``client``'s own conversation: the ~200 KB turns of the longest session, in order,
    under a session id of its own (their outputs are the same texts, as subagents' often are)."""
    session = str(uuid.UUID(int=client + 1))
    bodies = []
    for raw in conversation(resumed=False):
        if in_band(raw, "200 KB"):
            body = json.loads(raw)
            body["metadata"]["user_id"] = body["metadata"]["user_id"].rsplit("_", 1)[0] + "_" + session
            body["system"][0]["text"] += f" (client {client})"
            bodies.append(_bytes(body))
    return bodies


def small_body() -> bytes:
    return _bytes({"model": "claude-sonnet-4-5", "max_tokens": 64, "stream": False,
                   "messages": [{"role": "user", "content": "Say hi. " + "x" * 900}]})


def big_cold_body(salt: str) -> bytes:
    """A never-seen body of about COLD_BIG_BYTES: the long sessions' last turns, salted, repeated."""
    pieces = [list(trace_bodies.claude_code_requests(path))[-1]["messages"] for path in _long_sessions()]
    messages: list[dict[str, Any]] = []
    size, copy = 0, 0
    while size < COLD_BIG_BYTES and copy < 100:
        for piece in pieces:
            salted = _salted(piece, f"{salt}-{copy}")
            messages += salted + [{"role": "assistant", "content": [{"type": "text", "text": "Done."}]}]
            size += len(json.dumps(salted))
        copy += 1
    messages.append({"role": "user", "content": "Go on."})
    return _bytes({"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": messages})


# ---- the proxies -------------------------------------------------------------------------------

@dataclass
class Arm:
    name: str
    options: dict[str, str]
    addon: bool
    proxy: Mitmdump | None = None
    bundle: Path | None = None

    def client(self, timeout: float = TIMEOUT_S) -> httpx.Client:
        assert self.proxy is not None and self.bundle is not None
        return httpx.Client(proxy=self.proxy.url, verify=str(self.bundle), timeout=timeout, trust_env=False)


@dataclass
class Lab:
    tmp: Path
    fake: FakeProvider
    ca_cert: Path
    started: list[Mitmdump] = field(default_factory=list)

    def start(self, arm: Arm) -> Arm:
        confdir = self.tmp / f"confdir-{len(self.started)}"
        confdir.mkdir()
        noop = self.tmp / "noop_addon.py"
        noop.write_text(NOOP_ADDON)
        options = dict(arm.options)
        if arm.addon:
            options.setdefault("headroom_db", str(self.tmp / f"flows-{len(self.started)}.db"))
        extra = ["--set", "flow_detail=0"] + ([] if arm.addon else ["-s", str(noop)])
        proxy = Mitmdump(args=mitmdump_command(confdir, self.fake.port, self.ca_cert, with_addon=arm.addon,
                                               options=options, extra_args=extra), confdir=confdir)
        self.started.append(proxy)
        proxy.start()
        arm.proxy = proxy
        arm.bundle = write_ca_bundle(confdir / "bundle.pem", proxy.mitmproxy_ca)
        return arm

    def stop(self, arm: Arm) -> None:
        if arm.proxy is not None:
            arm.proxy.stop()
            arm.proxy = None

    def stop_all(self) -> None:
        for proxy in self.started:
            proxy.stop()


def timed_post(client: httpx.Client, body: bytes) -> float:
    started = time.perf_counter()
    client.post(URL, content=body, headers=HEADERS).raise_for_status()
    return (time.perf_counter() - started) * 1000


# ---- the phases ------------------------------------------------------------------------------

Rows = list[tuple[str, str, str]]  # (what, figure, how)


def _added(pairs: list[tuple[float, float]]) -> tuple[float, float, float]:
    """(median added ms, median baseline ms, median arm ms) of paired (baseline, arm) timings."""
    return (statistics.median(arm - base for base, arm in pairs), statistics.median(b for b, _ in pairs),
            statistics.median(a for _, a in pairs))


def phase_warm(lab: Lab, noop: Arm, cache: Arm, off: Arm, rounds: int) -> Rows:
    rows: Rows = []
    arms = [noop, cache, off]
    clients = {arm.name: arm.client() for arm in arms}
    try:
        for band, resumed in (("200 KB", False), ("1 MB", True)):
            pairs: dict[str, list[tuple[float, float]]] = {"cache": [], "off": []}
            by_position: list[tuple[int, float]] = []
            for round_index in range(rounds):
                # a new session id per round: the conversation is replayed from its first turn
                for turn, raw in enumerate(conversation(resumed)):
                    raw = raw.replace(b"_session_", f"_session_r{round_index}".encode(), 1)
                    order = arms if turn % 2 == 0 else arms[::-1]
                    timings = {arm.name: timed_post(clients[arm.name], raw) for arm in order}
                    if in_band(raw, band):
                        for name in pairs:
                            pairs[name].append((timings["noop"], timings[name]))
                        by_position.append((len(raw), timings["cache"] - timings["noop"]))
                    if turn % 8 == 7:
                        lab.fake.reset()  # it keeps every body it got
                lab.fake.reset()
            if not pairs["cache"]:
                rows.append((f"warm replay {band}", "no turn in the band", ""))
                continue
            added, base, ours = _added(pairs["cache"])
            third = max(1, len(by_position) // 3)
            early = statistics.median(d for _, d in sorted(by_position)[:third])
            late = statistics.median(d for _, d in sorted(by_position)[-third:])
            rows.append((f"warm replay, added p50, {band}", f"{added:.1f} ms",
                         f"{len(pairs['cache'])} turns; noop p50 {base:.1f} ms, addon {ours:.1f} ms; "
                         f"smallest third {early:.1f} ms, largest third {late:.1f} ms"))
            if band == "1 MB":
                added, base, ours = _added(pairs["off"])
                rows.append(("mode off, added p50 at 1 MB", f"{added:.1f} ms",
                             f"{len(pairs['off'])} turns; noop {base:.1f} ms, off {ours:.1f} ms"))
    finally:
        for client in clients.values():
            client.close()
    return rows


def _run_clients(arm: Arm, conversations: list[list[bytes]], send: Callable[[httpx.Client, bytes], float]
                 ) -> tuple[float, list[float]]:
    """Every client sends its conversation, all at once; (wall seconds, per-request figures)."""
    figures: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(conversations))

    def run(bodies: list[bytes]) -> None:
        with arm.client() as client:
            barrier.wait(timeout=TIMEOUT_S)
            for body in bodies:
                figure = send(client, body)
                with lock:
                    figures.append(figure)

    threads = [threading.Thread(target=run, args=(bodies,), daemon=True) for bodies in conversations]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT_S * 4)
    return time.perf_counter() - started, figures


def phase_concurrent(lab: Lab, noop: Arm, cache: Arm, rounds: int) -> Rows:
    conversations = [client_conversation(client)[:12] for client in range(CLIENTS)]
    total = sum(map(len, conversations))
    throughput: dict[str, list[float]] = {"noop": [], "cache": []}
    latency: dict[str, list[float]] = {"noop": [], "cache": []}
    for round_index in range(rounds):
        # the addon's first pass is cold; later rounds replay conversations it has seen
        salted = [[body.replace(b"_session_", f"_session_c{round_index}".encode(), 1) for body in bodies]
                  for bodies in conversations]
        for arm in (noop, cache) if round_index % 2 == 0 else (cache, noop):
            wall, figures = _run_clients(arm, salted, timed_post)
            if round_index > 0 or rounds == 1:
                throughput[arm.name].append(total / wall)
                latency[arm.name].extend(figures)
        lab.fake.reset()
    ratio = statistics.median(throughput["cache"]) / statistics.median(throughput["noop"])
    return [(f"{CLIENTS} concurrent clients at 200 KB, throughput", f"{ratio:.2f}x",
             f"noop {statistics.median(throughput['noop']):.0f} req/s, addon "
             f"{statistics.median(throughput['cache']):.0f} req/s; p50 latency noop "
             f"{statistics.median(latency['noop']):.0f} ms, addon {statistics.median(latency['cache']):.0f} ms")]


def _first_event_ms(client: httpx.Client, body: bytes) -> float:
    started = time.perf_counter()
    with client.stream("POST", URL, content=body, headers=HEADERS) as response:
        response.raise_for_status()
        chunks = response.iter_bytes()
        next(chunks, b"")
        first = (time.perf_counter() - started) * 1000
        for _ in chunks:
            pass
    return first


def phase_streams(lab: Lab, noop: Arm, cache: Arm, rounds: int) -> Rows:
    bodies = [b for b in conversation(resumed=False) if in_band(b, "200 KB")]
    firsts: dict[str, list[float]] = {"noop": [], "cache": []}
    for round_index in range(rounds + 1):  # the first round warms the memo and is not counted
        streams = [[bodies[(round_index + n) % len(bodies)].replace(
            b"_session_", f"_session_s{n}-".encode(), 1)] for n in range(STREAMS)]
        for arm in (noop, cache) if round_index % 2 == 0 else (cache, noop):
            _, figures = _run_clients(arm, streams, _first_event_ms)
            if round_index:
                firsts[arm.name].append(statistics.median(figures))
        lab.fake.reset()
    base, ours = statistics.median(firsts["noop"]), statistics.median(firsts["cache"])
    return [(f"{STREAMS} concurrent streams, first-event p50 added", f"{ours - base:+.0f} ms",
             f"noop {base:.0f} ms, addon {ours:.0f} ms (median of {rounds} rounds' p50)")]


def phase_behind_cold(lab: Lab, noop: Arm, cache: Arm, rounds: int) -> Rows:
    waits: dict[str, list[float]] = {"noop": [], "cache": []}
    small = small_body()
    size = 0
    for round_index in range(rounds):
        big = big_cold_body(f"cold{round_index}-{uuid.uuid4().hex[:8]}")
        size = len(big)
        for arm in (noop, cache) if round_index % 2 == 0 else (cache, noop):
            done = threading.Event()

            def send_big() -> None:
                with arm.client() as client:
                    try:
                        client.post(URL, content=big, headers=HEADERS)
                    finally:
                        done.set()

            thread = threading.Thread(target=send_big, daemon=True)
            thread.start()
            time.sleep(1.0)
            with arm.client() as client:
                waits[arm.name].append(timed_post(client, small))
            done.wait(TIMEOUT_S)
            thread.join(timeout=5)
        lab.fake.reset()
    base, ours = statistics.median(waits["noop"]), statistics.median(waits["cache"])
    return [(f"small request behind a cold {size / 1e6:.0f} MB body, added", f"{ours - base:+.0f} ms",
             f"noop {base:.0f} ms, addon {ours:.0f} ms ({rounds} rounds)")]


def phase_first(lab: Lab, rounds: int) -> Rows:
    firsts: dict[str, list[float]] = {"noop": [], "cache": []}
    small = small_body()
    for round_index in range(rounds):
        for arm in ([Arm("noop", {}, False), Arm("cache", {}, True)] if round_index % 2 == 0
                    else [Arm("cache", {}, True), Arm("noop", {}, False)]):
            lab.start(arm)
            time.sleep(0.5)  # as a user would: the proxy is up before the client's first request
            with arm.client() as client:
                firsts[arm.name].append(timed_post(client, small))
            lab.stop(arm)
    base, ours = statistics.median(firsts["noop"]), statistics.median(firsts["cache"])
    return [("first request after start, added", f"{ours - base:+.0f} ms",
             f"noop {base:.0f} ms, addon {ours:.0f} ms ({rounds} fresh processes each, 0.5 s after ready)")]


def phase_cold(lab: Lab, noop: Arm, cache: Arm, rounds: int) -> Rows:
    pairs: list[tuple[float, float]] = []
    size = 0
    with noop.client() as base_client, cache.client() as our_client:
        for round_index in range(rounds):
            salt = f"c{round_index}-{uuid.uuid4().hex[:8]}"
            body = next(b for b in conversation(resumed=True, salt=salt) if in_band(b, "1 MB"))
            size = len(body)
            if round_index % 2 == 0:
                base = timed_post(base_client, body)
                ours = timed_post(our_client, body)
            else:
                ours = timed_post(our_client, body)
                base = timed_post(base_client, body)
            pairs.append((base, ours))
            lab.fake.reset()
    added, base, ours = _added(pairs)
    return [(f"cold {size / 1e6:.1f} MB body, added", f"{added:.0f} ms",
             f"noop {base:.0f} ms, addon {ours:.0f} ms ({rounds} never-seen bodies)")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=PHASES, action="append", help="run this phase (repeatable)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per phase (1..20; default 3)")
    parser.add_argument("--rules", default="", help="headroom_rules for the addon (default: the shipped rules)")
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be between 1 and 20")
    if trace_bodies.shared_data_dir() is None or len(_long_sessions()) < 3:
        print("the Claude Code traces are not in ../shared/data/traces", file=sys.stderr)
        return 2
    phases = args.only or list(PHASES)
    options = {"headroom_rules": args.rules} if args.rules else {}
    rows: Rows = []
    with tempfile.TemporaryDirectory(prefix="headroom-constant-cost-") as tmp_name:
        tmp = Path(tmp_name)
        pki = make_test_pki(tmp / "pki")
        fake = FakeProvider(pki).start()
        lab = Lab(tmp, fake, pki.ca_cert_path)
        try:
            noop = lab.start(Arm("noop", {}, False))
            cache = lab.start(Arm("cache", {**options, "headroom_mode": "cache"}, True))
            with cache.client() as client:  # the first request pays for startup: not this table's rows
                timed_post(client, small_body())
            for phase in phases:
                print(f"phase {phase} ...", file=sys.stderr, flush=True)
                if phase == "warm":
                    off = lab.start(Arm("off", {**options, "headroom_mode": "off"}, True))
                    rows += phase_warm(lab, noop, cache, off, args.rounds)
                    lab.stop(off)
                elif phase == "concurrent":
                    rows += phase_concurrent(lab, noop, cache, args.rounds + 1)
                elif phase == "streams":
                    rows += phase_streams(lab, noop, cache, args.rounds)
                elif phase == "behind-cold":
                    rows += phase_behind_cold(lab, noop, cache, max(2, args.rounds - 1))
                elif phase == "first":
                    rows += phase_first(lab, args.rounds)
                elif phase == "cold":
                    rows += phase_cold(lab, noop, cache, args.rounds)
        except ProxyStartError as error:
            print(error, file=sys.stderr)
            return 1
        finally:
            lab.stop_all()
            fake.stop()
    print(f"{'measured against mitmdump + a no-op addon, same run':<52} {'figure':>10}  how")
    for what, figure, how in rows:
        print(f"{what:<52} {figure:>10}  {how}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
