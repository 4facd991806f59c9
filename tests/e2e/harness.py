"""Start a real ``mitmdump`` on loopback in front of the fake provider, and read the flow log.

Used by the e2e fixtures and by ``scripts/bench_proxy_latency.py``. Every wait is bounded and
every started process is stopped by :meth:`Mitmdump.stop`.
"""

from __future__ import annotations

import collections
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
ADDON_SCRIPT = REPO_ROOT / "headroom_addon.py"
REDIRECT_SCRIPT = Path(__file__).with_name("redirect_addon.py")
MITMDUMP = Path(sys.executable).with_name("mitmdump")
TIKTOKEN_CACHE_DIR = REPO_ROOT.parent / "shared" / "data" / "tiktoken"

START_TIMEOUT_S = 45.0
STOP_TIMEOUT_S = 10.0
_LISTENING = re.compile(r"listening at 127\.0\.0\.1:(\d+)")
_READY_LINE = "e2e harness: proxy ready"  # logged by redirect_addon.py once startup checks passed
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


class ProxyStartError(RuntimeError):
    """mitmdump exited or never said where it listens; the message carries its output."""


@dataclass
class Mitmdump:
    """One mitmdump subprocess; its combined stdout/stderr is kept for failure messages."""

    args: list[str]
    confdir: Path
    db_path: Path | None = None
    port: int = 0
    returncode: int | None = None
    _process: subprocess.Popen[str] | None = None
    _lines: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=2000))
    _ready: threading.Event = field(default_factory=threading.Event)
    _reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mitmproxy_ca(self) -> Path:
        return self.confdir / "mitmproxy-ca-cert.pem"

    def output(self) -> str:
        return "".join(self._lines)

    def memory_mb(self) -> tuple[float, float]:
        """(resident now, peak resident since start) in MB, from /proc: a bound on memory is a
        correctness property of a proxy, so tests read it."""
        assert self._process is not None
        status = Path(f"/proc/{self._process.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)

    def start(self, timeout: float = START_TIMEOUT_S) -> "Mitmdump":
        env = {k: v for k, v in os.environ.items() if k not in _PROXY_VARIABLES}
        env["PYTHONUNBUFFERED"] = "1"  # else its log sits in a pipe buffer and we never see "listening"
        env.setdefault("TIKTOKEN_CACHE_DIR", str(TIKTOKEN_CACHE_DIR))
        self._process = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True, errors="replace", env=env, cwd=REPO_ROOT,
        )
        self._reader = threading.Thread(target=self._read_output, name="mitmdump-output", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if self._process.poll() is not None:
                self._reader.join(timeout=2)
                self.returncode = self._process.returncode
                raise ProxyStartError(
                    f"mitmdump exited with code {self.returncode} before it was ready:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ProxyStartError(f"mitmdump was not ready within {timeout:.0f}s:\n{self.output()}")
        return self

    def wait_exit(self, timeout: float) -> int | None:
        """Wait for the process to end by itself; None if it is still running after ``timeout``."""
        assert self._process is not None
        try:
            self.returncode = self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        if self._reader is not None:
            self._reader.join(timeout=2)
        return self.returncode

    def stop(self) -> None:
        """Terminate (then kill) the process; safe to call twice."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
        self.returncode = process.returncode
        if self._reader is not None:
            self._reader.join(timeout=2)

    def _read_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.append(line)
            if not self.port and (match := _LISTENING.search(line)):
                self.port = int(match.group(1))
            if self.port and _READY_LINE in line:
                self._ready.set()


def mitmdump_command(
    confdir: Path,
    fake_port: int,
    upstream_ca: Path,
    *,
    with_addon: bool = True,
    options: Mapping[str, str] = {},
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The command line of a proxy in front of the fake provider (addon options via ``options``)."""
    args = [
        str(MITMDUMP),
        "--listen-host", "127.0.0.1",
        "--listen-port", "0",
        "--set", f"confdir={confdir}",
        "--set", f"ssl_verify_upstream_trusted_ca={upstream_ca}",
    ]
    if with_addon:
        args += ["-s", str(ADDON_SCRIPT)]
    args += ["-s", str(REDIRECT_SCRIPT), "--set", f"e2e_fake_port={fake_port}"]
    for name, value in options.items():
        args += ["--set", f"{name}={value}"]
    args += list(extra_args)
    return args


def write_ca_bundle(path: Path, *pem_files: Path) -> Path:
    """Concatenate PEM files into one trust bundle (what SSL_CERT_FILE points at)."""
    path.write_bytes(b"\n".join(pem.read_bytes().strip() + b"\n" for pem in pem_files))
    return path


def client_env(proxy_url: str, ca_bundle: Path) -> dict[str, str]:
    """Variables that send an SDK's HTTPS through the proxy and make it trust the bundle."""
    return {
        "HTTPS_PROXY": proxy_url, "https_proxy": proxy_url,
        "HTTP_PROXY": proxy_url, "http_proxy": proxy_url,
        "NO_PROXY": "", "no_proxy": "",
        "ALL_PROXY": "", "all_proxy": "",
        "SSL_CERT_FILE": str(ca_bundle),
    }


# --------------------------------------------------------------------------------------------
# The flow log


def read_rows(db_path: Path, table: str) -> list[dict[str, Any]] | None:
    """All rows of ``table`` as dicts; None while the file or table does not exist yet."""
    if not db_path.exists():
        return None
    try:
        connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=2)
    except sqlite3.Error:
        return None
    try:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute(f"SELECT * FROM {table}")]  # noqa: S608
    except sqlite3.OperationalError as error:
        if "no such table" in str(error) or "locked" in str(error) or "unable to open" in str(error):
            return None
        raise
    finally:
        connection.close()


def wait_for_rows(db_path: Path, table: str, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Poll until ``table`` holds at least ``count`` rows (the log is written off the event loop)."""
    deadline = time.monotonic() + timeout
    rows: list[dict[str, Any]] | None = None
    while time.monotonic() < deadline:
        rows = read_rows(db_path, table)
        if rows is not None and len(rows) >= count:
            return rows
        time.sleep(0.1)
    raise AssertionError(
        f"{db_path} table {table!r} held {None if rows is None else len(rows)} rows after "
        f"{timeout:.0f}s, expected at least {count}: {rows!r}"
    )
