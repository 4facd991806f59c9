"""A team's proxies on one PostgreSQL: three mitmdumps started at once on an empty database a few
milliseconds away, the same conversations replayed through all three at the same time, then all
three restarted at once on a log of the previous schema version. Nothing is lost, nothing is stored
twice, every #ref resolves, no password shows anywhere, and learn sees what one SQLite log of the traffic shows.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import psycopg
import pytest

from headroom_mitm.addon.store.schema import head_revision

from . import team_traffic
from .conftest import Proxy, launch_proxy
from .db_relay import DelayRelay
from .fake_provider import FakePKI, FakeProvider
from .harness import MITMDUMP, TIKTOKEN_CACHE_DIR, Mitmdump

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

HEADROOM = MITMDUMP.with_name("headroom")
SHIPPED_RULES = {"headroom_rules": ""}
DELAY_PER_CHUNK_S = 0.003
CONVERSATIONS = range(6)


@pytest.fixture
def team_database(postgres_url: str) -> Iterator[tuple[str, int]]:
    """A database of this test's own (name, server port); dropped afterwards."""
    server = postgres_url.split("?")[0].replace("postgresql+psycopg://", "postgresql://")
    name = f"headroom_e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    port = int(re.search(r":(\d+)/", server).group(1)) if re.search(r":(\d+)/", server) else 5432
    try:
        yield name, port
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _headroom(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HEADROOM), *args], capture_output=True, text=True, timeout=120,
        env={"TIKTOKEN_CACHE_DIR": str(TIKTOKEN_CACHE_DIR), "PATH": "/usr/bin:/bin"},
    )


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as connection:
        return connection.execute(sql).fetchall()


def _learned(source: str) -> list[dict[str, Any]]:
    result = _headroom("learn", source, "--project", "all", "--json", "--min-evidence", "1")
    assert result.returncode == 0, result.stderr
    patterns = json.loads(result.stdout)["patterns"]
    # when a pattern was seen differs between two logs of the same traffic, what it says must not
    return [{k: v for k, v in pattern.items() if k not in ("first_seen", "last_seen")} for pattern in patterns]


def _start_all(starters: list) -> list[Proxy]:
    """Start every proxy at the same instant; return them in order."""
    barrier = threading.Barrier(len(starters))
    results: list[Any] = [None] * len(starters)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = starters[index]()
        except Exception as exc:  # reported below, with the others' state
            results[index] = exc

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(starters))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    failures = [result for result in results if isinstance(result, BaseException)]
    assert not failures, failures
    return results


def _wait_for(condition, what: str, timeout: float = 90.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:.0f}s: {what}"
        time.sleep(0.25)


@pytest.mark.timeout(600)
def test_three_proxies_on_one_postgres_lose_nothing_and_store_nothing_twice(
    team_database: tuple[str, int], fake: FakeProvider, pki: FakePKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, server_port = team_database
    password = f"team-pw-{uuid.uuid4().hex}"
    relay = DelayRelay(("127.0.0.1", server_port), DELAY_PER_CHUNK_S).start()
    team_url = f"postgresql://postgres:{password}@127.0.0.1:{relay.port}/{name}"
    direct = f"postgresql://postgres@127.0.0.1:{server_port}/{name}"
    url_file = tmp_path / "team-db-url"
    url_file.write_text(team_url + "\n")
    url_file.chmod(0o600)
    # two proxies read the URL from the file, the third from the environment: never the command line
    monkeypatch.setenv("HEADROOM_DB", team_url)
    started: list[Mitmdump] = []
    sent = 0
    try:
        def proxy_starter(index: int, run: str = "", **options: str):
            return lambda: launch_proxy(tmp_path / f"team{index}{run}", fake.port, pki, started,
                                        options={**SHIPPED_RULES, **options})

        team = _start_all([
            proxy_starter(0, headroom_db=f"@{url_file}"),
            proxy_starter(1, headroom_db=f"@{url_file}"),
            proxy_starter(2, headroom_db=""),
        ])
        for proxy in team:
            assert "flow log: writing to postgresql://postgres:***@" in proxy.output(), proxy.output()
            assert "flow log disabled" not in proxy.output()
            cmdline = Path(f"/proc/{proxy.process._process.pid}/cmdline").read_bytes()
            assert password.encode() not in cmdline
        # the same conversations through all three at once, each proxy taking them in its own order
        # (its writer's batches then hold the same turns in different orders)
        orders = [list(CONVERSATIONS), list(reversed(CONVERSATIONS)), list(CONVERSATIONS[3:]) + list(CONVERSATIONS[:3])]
        with ThreadPoolExecutor(max_workers=3 * len(CONVERSATIONS)) as pool:
            jobs = [pool.submit(team_traffic.replay, team[p], conversation, team_url, 0.02 * position)
                    for p in range(3) for position, conversation in enumerate(orders[p])]
            sent += sum(job.result() for job in jobs)

        expected_calls = team_traffic.distinct_calls(CONVERSATIONS)
        _wait_for(lambda: _rows(direct, "SELECT count(*) FROM flows")[0][0] >= sent, f"{sent} flows stored")
        refs = team_traffic.refs_sent_upstream(fake)
        assert len(refs) >= len(CONVERSATIONS), "every conversation's log should go upstream behind #refs"
        _wait_for(lambda: _rows(direct, "SELECT count(*) FROM tool_calls")[0][0] >= expected_calls, "tool calls stored")
        originals = team_traffic.expected_originals(refs, CONVERSATIONS)
        _wait_for(lambda: _rows(direct, "SELECT count(*) FROM originals")[0][0] >= len(originals), "originals stored")

        # --- exactly once, every ref resolvable --------------------------------------------
        assert _rows(direct, "SELECT count(*) FROM flows") == [(sent,)]
        assert _rows(direct, "SELECT count(*), count(DISTINCT fingerprint) FROM tool_calls") == [(expected_calls, expected_calls)]
        assert sorted(_rows(direct, "SELECT left(hash, 12) FROM originals")) == sorted((key,) for key in originals)
        for ref in sorted(refs):
            found = _headroom("original", ref, "--db", f"@{url_file}")
            assert found.returncode == 0, found.stderr
            # what the marker stands for: lines elided from one conversation's log
            assert any(found.stdout in team_traffic.service_log(n) for n in CONVERSATIONS), found.stdout[:200]
        stored_urls = _rows(direct, "SELECT output FROM tool_calls WHERE output LIKE 'DATABASE_URL=%'")
        assert stored_urls and all("postgres:[REDACTED]@" in output for (output,) in stored_urls)

        # --- learn over the shared log sees what one SQLite log of the same traffic shows -----
        solo = launch_proxy(tmp_path / "solo", fake.port, pki, started, options={**SHIPPED_RULES, "headroom_db": str(tmp_path / "solo.db")})
        for conversation in CONVERSATIONS:
            team_traffic.replay(solo, conversation, team_url)
        _wait_for(lambda: _sqlite_count(tmp_path / "solo.db", "tool_calls") >= expected_calls, "the SQLite log")
        shared, single = _learned(f"@{url_file}"), _learned(str(tmp_path / "solo.db"))
        assert shared == single
        push = next(pattern for pattern in shared if pattern["trigger"] == "git push")
        assert push["evidence"] == len(CONVERSATIONS)  # a conversation seen by three proxies counts once

        # --- the team restarted on a log of the previous schema version ---------------------
        # (the proxies are stopped first: a running proxy of this release cannot write a table
        # that lacks its columns, and the release before would not run beside this one)
        for proxy in team:
            proxy.process.stop()
        _to_the_release_before_migrations(direct)
        before = _rows(direct, "SELECT (SELECT count(*) FROM flows), (SELECT count(*) FROM tool_calls), (SELECT count(*) FROM originals)")[0]
        # all three come back at the same instant and race to upgrade it
        team = _start_all([
            proxy_starter(0, "-again", headroom_db=f"@{url_file}"),
            proxy_starter(1, "-again", headroom_db=f"@{url_file}"),
            proxy_starter(2, "-again", headroom_db=""),
        ])
        outputs = [proxy.output() for proxy in team]
        assert any("a log from before migrations" in output for output in outputs), outputs
        assert all("flow log: writing to" in output for output in outputs), outputs
        with ThreadPoolExecutor(max_workers=3) as pool:
            jobs = [pool.submit(team_traffic.replay, team[p], conversation, team_url)
                    for p, conversation in ((0, 7), (1, 6), (2, 7))]
            sent += sum(job.result() for job in jobs)

        expected_calls = team_traffic.distinct_calls([*CONVERSATIONS, 6, 7])
        _wait_for(lambda: _rows(direct, "SELECT count(*) FROM flows")[0][0] >= sent, f"{sent} flows")
        _wait_for(lambda: _rows(direct, "SELECT count(*) FROM tool_calls")[0][0] >= expected_calls, "new tool calls")
        refs = team_traffic.refs_sent_upstream(fake)
        originals = team_traffic.expected_originals(refs, [*CONVERSATIONS, 6, 7])
        _wait_for(lambda: _rows(direct, "SELECT count(*) FROM originals")[0][0] >= len(originals), "new originals")
        assert _rows(direct, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
        after = _rows(direct, "SELECT (SELECT count(*) FROM flows), (SELECT count(*) FROM tool_calls), (SELECT count(*) FROM originals)")[0]
        assert after == (sent, expected_calls, len(originals)) and after[0] > before[0]
        for ref in sorted(refs):
            assert _headroom("original", ref, "--db", f"@{url_file}").returncode == 0, ref
    finally:
        for process in started:
            process.stop()
        relay.stop()

    # --- no password in any output or file --------------------------------------------------
    outputs = "\n".join(process.output() for process in started)
    assert "flow log disabled" not in outputs
    assert password not in outputs
    _print_measurements(started, sent, direct, relay)
    dump = subprocess.run(["pg_dump", "--data-only", direct], capture_output=True, text=True, timeout=120)
    assert dump.returncode == 0 and "REDACTED" in dump.stdout
    assert password not in dump.stdout
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != url_file:
            assert password.encode() not in path.read_bytes(), f"the password is in {path}"


def _sqlite_count(path: Path, table: str) -> int:
    import sqlite3

    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        try:
            return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
        except sqlite3.OperationalError:
            return 0


def _print_measurements(started: list[Mitmdump], sent: int, direct: str, relay: DelayRelay) -> None:
    """What the contention cost, for whoever reads the test's output (-s): never asserted."""
    retried = [int(m.group(1)) for process in started
               for m in re.finditer(r"(\d+) batches run again after contention", process.output())]
    stored = _rows(direct, "SELECT count(*) FROM flows")[0][0]
    print(f"\nteam e2e: {stored} flows stored / {sent} sent; batches run again: {sum(retried)} "
          f"(per proxy {retried}); relay chunks delayed {DELAY_PER_CHUNK_S * 1000:.0f} ms: {relay.chunks}")


def _to_the_release_before_migrations(url: str) -> None:
    """Turn the shared log back into what the release before migrations left: the baseline's
    tables (later revisions undone by their own downgrades) and no alembic_version."""
    from alembic import command
    from alembic.config import Config

    from headroom_mitm.addon.store.engine import make_engine
    from headroom_mitm.addon.store.migrations import SCRIPT_LOCATION

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(SCRIPT_LOCATION))
            config.attributes["connection"] = connection
            command.downgrade(config, "r0001")
            connection.exec_driver_sql("DROP TABLE alembic_version")
    finally:
        engine.dispose()
