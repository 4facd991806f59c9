"""The proxy's own pages, answered by the addon for ``http://headroom.invalid/``.

A request through the proxy to that name never goes upstream: the addon answers it in its request
hook, so a page that loads proves the traffic goes through Headroom. The same pages are served on
an optional port of their own (``headroom_status``) for scrapers that use no proxy.

    /          an index of the pages
    /health    JSON: status, version, mode, uptime, flows, database (one section per concern)
    /stats     what ``headroom stats --json`` prints (``?since=7d`` as its ``--since``)
    /metrics   Prometheus text format
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from mitmproxy import ctx, http

from headroom_mitm.addon import __version__
from headroom_mitm.addon.pages import registry
from headroom_mitm.addon.pages.direct import DirectServer, parse_address
from headroom_mitm.addon.pages.health import Health
from headroom_mitm.addon.pages.host import is_status_host
from headroom_mitm.addon.pages.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from headroom_mitm.addon.pages.metrics import FlowMetrics
from headroom_mitm.addon.pages.page import Page

logger = logging.getLogger(__name__)

_JSON = "application/json"

PAGES = {
    "/health": "status, version, mode, uptime, flows and the database, as JSON",
    "/stats": "tokens and dollars saved by provider and model, as headroom stats --json prints them "
              "(?since=7d, ?by=session|day|tool)",
    "/metrics": "counters for Prometheus",
}


class StatusPages:
    """Answers ``headroom.invalid`` for the addon that owns it (a nested mitmproxy addon).

    ``settings`` and ``flow_log`` read the owner's current values, so the pages always describe
    what the proxy is doing now.
    """

    def __init__(self, settings: Callable[[], Any], flow_log: Callable[[], Any]) -> None:
        self._settings = settings
        self._flow_log = flow_log
        self._started = time.monotonic()
        self._recorded = 0
        self._confdir = "~/.mitmproxy"
        self._status_address: tuple[str, int] | None = None
        self._direct: DirectServer | None = None
        self._run_file: Path | None = None
        self._running = False
        self.health = Health(self._summary)
        self.health.add("flows", self._flows_section)
        self.health.add("database", self._database_section)
        self.metrics = FlowMetrics(self._log_failures, self._info)

    # ---- mitmproxy hooks ---------------------------------------------------------------------

    def configure(self, updated: set[str]) -> None:
        if "confdir" in updated:
            self._confdir = ctx.options.confdir
        if "headroom_status" in updated:
            self._status_address = parse_address(ctx.options.headroom_status)
            if self._running:
                self._serve_directly()

    def running(self) -> None:
        self._running = True
        self._serve_directly()
        self._run_file = registry.announce(_proxy_urls(), self._direct.address if self._direct else None)

    def done(self) -> None:
        if self._direct is not None:
            self._direct.stop()
            self._direct = None
        registry.withdraw(self._run_file)
        self._run_file = None

    def http_connect(self, flow: http.HTTPFlow) -> None:
        # Answer the CONNECT ourselves: the name does not resolve, so connecting first would fail.
        if is_status_host(flow.request.host):
            flow.response = http.Response.make(200)

    # ---- called by the owner -----------------------------------------------------------------

    async def answer(self, flow: http.HTTPFlow) -> bool:
        """Answers ``flow`` when it asks for a page (it then never goes upstream)."""
        if not is_status_host(flow.request.pretty_host):
            return False
        # /stats reads the database: never on the event loop every connection shares
        page = await asyncio.to_thread(self.render, flow.request.method, flow.request.path)
        flow.response = http.Response.make(
            page.status, page.body, {"Content-Type": page.content_type, "Cache-Control": "no-store"}
        )
        return True

    def observe(self, entry: Any, rewrite_error: bool) -> None:
        """One flow handed to the log: counted for /health and /metrics."""
        self._recorded += 1
        self.metrics.observe(entry, rewrite_error)

    # ---- the pages ---------------------------------------------------------------------------

    def render(self, method: str, target: str) -> Page:
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        if method not in ("GET", "HEAD"):
            return _json_page(405, {"error": f"{method} is not answered here: use GET"})
        if path == "/":
            return Page(200, "text/html; charset=utf-8", _index().encode())
        if path == "/health":
            return _json_page(200, self.health.document())
        if path == "/stats":
            return self._stats(parse_qs(parts.query))
        if path == "/metrics":
            return Page(200, METRICS_CONTENT_TYPE, self.metrics.render())
        return _json_page(404, {"error": f"no page {parts.path}", "pages": sorted(PAGES)})

    def _stats(self, query: dict[str, list[str]]) -> Page:
        from headroom_mitm.addon.cli.stats import StatsError, parse_since, stats_document

        from headroom_mitm.addon.store.queries import GROUPINGS

        by = (query.get("by") or ["model"])[0]
        if by not in GROUPINGS:
            return _json_page(400, {"error": f"by={by!r}: use one of {', '.join(GROUPINGS)}"})
        since = None
        if query.get("since"):
            try:
                since = parse_since(query["since"][0])
            except argparse.ArgumentTypeError as exc:
                return _json_page(400, {"error": str(exc)})
        try:
            return _json_page(200, stats_document(self._db_target(), since, by))
        except StatsError as exc:
            return _json_page(503, {"error": str(exc)})

    def _summary(self) -> dict[str, Any]:
        settings = self._settings()
        confdir = Path(os.path.expanduser(self._confdir))
        return {
            "version": __version__,
            "mode": settings.mode if settings else None,
            "uptime_s": round(time.monotonic() - self._started, 1),
            "pid": os.getpid(),
            "confdir": str(confdir),
            "ca_cert": str(confdir / "mitmproxy-ca-cert.pem"),
            "rules": (settings.rules or "default") if settings else None,
        }

    def _flows_section(self) -> dict[str, Any]:
        log = self._flow_log()
        return {
            "recorded": self._recorded,
            "written": log.written if log else 0,
            "failed": log.failures if log else 0,
            "dropped": log.dropped if log else 0,
        }

    def _database_section(self) -> dict[str, Any]:
        log = self._flow_log()
        if log is None:
            return {"ok": False, "target": None, "error": "the flow log is not open"}
        # while the database takes no writes, flows are kept (not failed): say so here
        ok = log.enabled and log.writable and not log.failures and not log.dropped
        return {"ok": ok, "target": log.target, "enabled": log.enabled, "writable": log.writable}

    def _db_target(self) -> str:
        from headroom_mitm.addon.store.engine import default_db_path

        settings = self._settings()
        return (settings.db if settings else "") or str(default_db_path())

    def _log_failures(self) -> tuple[int, int]:
        log = self._flow_log()
        return (log.failures, log.dropped) if log else (0, 0)

    def _info(self) -> dict[str, str]:
        settings = self._settings()
        return {"version": __version__, "mode": settings.mode if settings else ""}

    def _serve_directly(self) -> None:
        if self._direct is not None:
            self._direct.stop()
            self._direct = None
        if self._status_address is not None:
            self._direct = DirectServer(self._status_address, self.render).start()


def _json_page(status: int, document: dict[str, Any]) -> Page:
    return Page(status, _JSON, (json.dumps(document, indent=2) + "\n").encode())


def _index() -> str:
    items = "".join(
        f'<li><a href="{path}">{path}</a>: {html.escape(text)}</li>' for path, text in PAGES.items()
    )
    return (
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Headroom</title></head><body>"
        f"<h1>Headroom {html.escape(__version__)}</h1>"
        "<p>This page came from the proxy: your traffic goes through Headroom.</p>"
        f"<ul>{items}</ul></body></html>\n"
    )


def _proxy_urls() -> list[str]:
    """Where this process accepts proxy clients (the real ports, also when started on port 0)."""
    server = ctx.master.addons.get("proxyserver") if getattr(ctx, "master", None) else None
    if server is None:
        return []
    urls = []
    for instance in server.servers:
        if instance.mode.type_name != "regular":
            continue
        for host, port, *_ in instance.listen_addrs:
            host = "127.0.0.1" if host in ("", "0.0.0.0") else ("::1" if host == "::" else host)
            urls.append(f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}")
    return urls
