"""Test-only mitmproxy script: connect to the fake provider instead of the real provider hosts.

Only the TCP destination changes; SNI and the Host header stay ``api.anthropic.com`` etc., so
the proxy and the addon see exactly what they would see in production. ``localhost`` and IP
literals are left alone: they stand for "some other host" in the passthrough test.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging

from mitmproxy import ctx
from mitmproxy.addonmanager import Loader
from mitmproxy.proxy import server_hooks

logger = logging.getLogger(__name__)

READY_LINE = "e2e harness: proxy ready"
READY_DELAY_S = 0.2


def _is_left_alone(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class RedirectToFakeProvider:
    def load(self, loader: Loader) -> None:
        loader.add_option(
            "e2e_fake_port", int, 0, "Port of the fake provider on 127.0.0.1 (0: redirect nothing)."
        )

    def running(self) -> None:
        # mitmdump announces "listening" before its startup error check, which may still exit
        # the process. That check finishes within a couple of loop turns after ``running``, so a
        # line logged well after it means the proxy really is up.
        asyncio.get_running_loop().call_later(READY_DELAY_S, logger.info, READY_LINE)

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        port = ctx.options.e2e_fake_port
        if not port or data.server.address is None:
            return
        host = str(data.server.address[0])
        if _is_left_alone(host):
            return
        data.server.address = ("127.0.0.1", port)


addons = [RedirectToFakeProvider()]
