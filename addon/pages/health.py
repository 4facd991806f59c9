"""``/health``: one JSON document made of named sections, each answered by whoever owns it.

A section is a function returning a small dict; a dict with ``"ok": False`` makes the whole
status ``degraded``. A feature adds its own section with ``health.add(name, function)``.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

logger = logging.getLogger(__name__)

Section = Callable[[], dict[str, Any]]

SERVICE = "headroom"
"""The ``service`` field: how a client tells Headroom's health page from any other."""


class Health:
    def __init__(self, summary: Callable[[], dict[str, Any]]) -> None:
        self._summary = summary
        self._sections: dict[str, Section] = {}

    def add(self, name: str, section: Section) -> None:
        self._sections[name] = section

    def document(self) -> dict[str, Any]:
        sections: dict[str, dict[str, Any]] = {}
        for name, section in self._sections.items():
            try:
                sections[name] = section()
            except Exception as exc:  # one broken section must not hide the others
                logger.warning("health section %s failed", name, exc_info=True)
                sections[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        degraded = any(part.get("ok") is False for part in sections.values())
        return {"service": SERVICE, "status": "degraded" if degraded else "ok", **self._summary(), **sections}
