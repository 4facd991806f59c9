"""The pages without a proxy: routes, health sections, the status address option."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from mitmproxy import exceptions

from headroom_mitm.addon.pages import is_status_host
from headroom_mitm.addon.pages.direct import parse_address
from headroom_mitm.addon.pages.site import StatusPages


def _pages() -> StatusPages:
    settings = SimpleNamespace(mode="token", db="", rules=None)
    return StatusPages(lambda: settings, lambda: None)


def test_a_feature_adds_its_own_health_section_and_can_degrade_the_status() -> None:
    pages = _pages()
    pages.health.add("breaker", lambda: {"ok": True, "open": 0})
    document = json.loads(pages.render("GET", "/health").body)
    assert document["breaker"] == {"ok": True, "open": 0}
    assert document["mode"] == "token"
    # no flow log opened: the database section says so, and the whole status follows
    assert document["database"]["ok"] is False and document["status"] == "degraded"


def test_a_failing_section_is_reported_without_hiding_the_others() -> None:
    pages = _pages()
    pages.health.add("broken", lambda: 1 / 0)
    document = json.loads(pages.render("GET", "/health").body)
    assert document["broken"]["ok"] is False and "ZeroDivisionError" in document["broken"]["error"]
    assert "flows" in document and document["status"] == "degraded"


def test_routes() -> None:
    pages = _pages()
    assert pages.render("POST", "/health").status == 405
    assert pages.render("GET", "/missing").status == 404
    assert pages.render("GET", "/health/").status == 200
    assert pages.render("GET", "/stats?since=yesterday-ish").status == 400
    assert pages.render("GET", "/metrics").body.startswith(b"# HELP")


@pytest.mark.parametrize("host", ["headroom.invalid", "HEADROOM.INVALID.", "headroom.invalid:80"])
def test_the_status_host_in_any_spelling(host: str) -> None:
    assert is_status_host(host)


def test_other_hosts_are_not_the_status_host() -> None:
    assert not is_status_host("headroom.invalid.example.com") and not is_status_host(None)


def test_status_address() -> None:
    assert parse_address("") is None
    assert parse_address("127.0.0.1:9099") == ("127.0.0.1", 9099)
    assert parse_address("[::1]:9099") == ("::1", 9099)
    for bad in ("9099", "localhost:", "host:port", "127.0.0.1:70000"):
        with pytest.raises(exceptions.OptionsError, match="headroom_status"):
            parse_address(bad)
