"""The pages on a port of their own (``--set headroom_status=127.0.0.1:9099``), for Prometheus.

A small threaded HTTP server beside mitmproxy's: a page that reads the database runs on its own
thread, never on the event loop the proxied traffic shares.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from mitmproxy import exceptions

from headroom_mitm.addon.pages.page import Page

logger = logging.getLogger(__name__)


def parse_address(value: str) -> tuple[str, int] | None:
    """``host:port`` (``[::1]:9099`` for IPv6), or None for an empty value; OptionsError otherwise."""
    value = value.strip()
    if not value:
        return None
    host, sep, port_text = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise exceptions.OptionsError(
            f"headroom_status={value!r} is not an address: give host:port, e.g. 127.0.0.1:9099"
        )
    return host, int(port_text)


class DirectServer:
    def __init__(self, address: tuple[str, int], render: Callable[[str, str], Page]) -> None:
        try:
            self._server = ThreadingHTTPServer(address, _handler(render))
        except OSError as exc:
            raise exceptions.OptionsError(
                f"headroom_status={address[0]}:{address[1]}: cannot listen there ({exc.strerror or exc})"
            ) from exc
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="headroom-status", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"

    def start(self) -> "DirectServer":
        self._thread.start()
        logger.info("headroom status pages at http://%s/", self.address)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(render: Callable[[str, str], Page]) -> type[BaseHTTPRequestHandler]:
    class StatusHandler(BaseHTTPRequestHandler):
        server_version = "headroom"

        def do_GET(self) -> None:
            self._answer(render("GET", self.path))

        def do_HEAD(self) -> None:
            self._answer(render("HEAD", self.path), body=False)

        def _answer(self, page: Page, body: bool = True) -> None:
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(page.body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if body:
                self.wfile.write(page.body)

        def log_message(self, format: str, *args: object) -> None:
            logger.debug("status page: " + format, *args)

    return StatusHandler
