"""The reserved name the proxy answers for itself."""

from __future__ import annotations

from headroom_mitm.addon.hosts import normalize_host

STATUS_HOST = "headroom.invalid"
"""``.invalid`` never resolves (RFC 2606): a page from it can only have come from the proxy."""


def is_status_host(host: str | None) -> bool:
    return bool(host) and normalize_host(host) == STATUS_HOST
