"""How the command line finds a running proxy: a file per proxy process, checked on its status page.

Each proxy writes ``$HEADROOM_HOME/run/<pid>.json`` (where it listens) once it runs and removes it
when it stops. A reader trusts a file only when that process is alive and the proxy answers
``http://headroom.invalid/health`` as Headroom: a stale file or a port taken over by another
program is never mistaken for the proxy.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from headroom_mitm.addon.pages.health import SERVICE
from headroom_mitm.addon.pages.host import STATUS_HOST

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 3.0


def run_dir() -> Path:
    home = os.environ.get("HEADROOM_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".headroom") / "run"


@dataclass(frozen=True)
class RunningProxy:
    pid: int
    proxy_url: str
    """``http://host:port`` for HTTPS_PROXY."""
    health: dict[str, Any]
    """What it answered on ``/health``."""


def announce(proxy_urls: list[str], status_address: str | None) -> Path | None:
    """Write this process's run file; returns its path (None when it could not be written)."""
    path = run_dir() / f"{os.getpid()}.json"
    record = {"pid": os.getpid(), "proxy": proxy_urls, "status": status_address, "started_at": time.time()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(record))
        temporary.replace(path)
    except OSError as exc:
        logger.warning("cannot write %s (%s): headroom env and wrap will not find this proxy by itself", path, exc)
        return None
    return path


def withdraw(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


def running_proxies() -> list[RunningProxy]:
    """Every proxy whose run file names a live process that answers as Headroom, newest first."""
    found: list[tuple[float, RunningProxy]] = []
    for path in sorted(run_dir().glob("*.json")):
        try:
            record = json.loads(path.read_text())
            pid = int(record["pid"])
            urls = [str(url) for url in record["proxy"]]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not _alive(pid):
            path.unlink(missing_ok=True)  # the process is gone: its file is stale
            continue
        for url in urls:
            health = probe_health(url)
            if is_headroom(health):
                found.append((float(record.get("started_at") or 0), RunningProxy(pid, url, health)))
                break
    return [proxy for _, proxy in sorted(found, key=lambda item: -item[0])]


def is_headroom(health: Any) -> bool:
    return isinstance(health, dict) and health.get("service") == SERVICE


def probe_health(proxy_url: str, timeout: float = PROBE_TIMEOUT_S) -> dict[str, Any] | None:
    """``/health`` fetched through the proxy at ``proxy_url``; None when it does not answer it."""
    try:
        status, body = fetch_through(proxy_url, "/health", timeout)
        document = json.loads(body) if status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    return document if isinstance(document, dict) else None


def fetch_through(proxy_url: str, path: str, timeout: float = PROBE_TIMEOUT_S) -> tuple[int, bytes]:
    """GET ``http://headroom.invalid<path>`` through a proxy, whatever NO_PROXY says."""
    parts = urlsplit(proxy_url if "://" in proxy_url else f"http://{proxy_url}")
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 8080, timeout=timeout)
    try:
        connection.request("GET", f"http://{STATUS_HOST}{path}", headers={"Host": STATUS_HOST})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True
