"""A team's PostgreSQL that demands a password, named by a URL without one: libpq's ``PGPASSFILE``
supplies it, so the password is on no command line, in no option and in no output.

The server here trusts every connection, so a relay in front of it asks for the password and
records what it got: the test sees that the password really travelled, from the file only.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from . import payloads
from .clients import anthropic_client
from .conftest import StartProxy
from .harness import MITMDUMP, TIKTOKEN_CACHE_DIR
from .password_relay import PasswordRelay
from .test_team_postgres_e2e import team_database  # noqa: F401  (the fixture: a database of its own)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

HEADROOM = MITMDUMP.with_name("headroom")


def _headroom(*args: str, pgpassfile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HEADROOM), *args], capture_output=True, text=True, timeout=120,
        env={"TIKTOKEN_CACHE_DIR": str(TIKTOKEN_CACHE_DIR), "PATH": "/usr/bin:/bin",
             "PGPASSFILE": str(pgpassfile)},
    )


def _flows(direct_url: str) -> int:
    with psycopg.connect(direct_url) as connection:
        return connection.execute("SELECT count(*) FROM flows").fetchone()[0]


@pytest.fixture
def guarded(team_database: tuple[str, int], tmp_path: Path):  # noqa: F811
    """(the password-less URL through the relay, the direct URL, the relay, a pgpass file for it)"""
    name, server_port = team_database
    password = f"pgpass-pw-{uuid.uuid4().hex}"
    relay = PasswordRelay(("127.0.0.1", server_port), password).start()
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{relay.port}:{name}:postgres:{password}\n")
    passfile.chmod(0o600)  # libpq ignores a password file others can read
    try:
        yield (f"postgresql://postgres@127.0.0.1:{relay.port}/{name}",
               f"postgresql://postgres@127.0.0.1:{server_port}/{name}", relay, passfile)
    finally:
        relay.stop()


def test_without_the_password_file_the_command_says_so_in_one_line(guarded, tmp_path: Path) -> None:
    url, _, relay, _ = guarded
    refused = _headroom("db", "upgrade", url, pgpassfile=tmp_path / "no-such-file")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert url in refused.stderr and "password" in refused.stderr, refused.stderr


def test_the_proxy_logs_to_a_password_less_url_with_the_password_from_pgpassfile(
    guarded, start_proxy: StartProxy, monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, direct, relay, passfile = guarded
    upgraded = _headroom("db", "upgrade", url, pgpassfile=passfile)
    assert upgraded.returncode == 0, upgraded.stderr

    monkeypatch.setenv("PGPASSFILE", str(passfile))
    proxy = start_proxy(options={"headroom_db": url, "headroom_rules": ""})
    assert f"flow log: writing to {url}" in proxy.output(), proxy.output()
    client, _ = anthropic_client()
    client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=payloads.anthropic_messages())

    deadline = time.monotonic() + 30
    while _flows(direct) < 1:
        assert time.monotonic() < deadline, f"no flow reached the team log:\n{proxy.output()}"
        time.sleep(0.25)
    password = passfile.read_text().rsplit(":", 1)[1].strip()
    assert relay.passwords_seen and set(relay.passwords_seen) == {password}
    cmdline = Path(f"/proc/{proxy.process._process.pid}/cmdline").read_bytes()
    assert password.encode() not in cmdline and password not in proxy.output()
