"""What every check reads (the environment, the proxy it points at) and what each one answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

from headroom_mitm.addon.cli.locate import configured_proxy_url
from headroom_mitm.addon.pages.registry import is_headroom, probe_health


@dataclass(frozen=True)
class Result:
    check: str
    ok: Optional[bool]
    """True ✓, False ✗, None: not checked (it depends on a check that failed)."""
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail, "fix": self.fix}


@dataclass
class Context:
    environ: dict[str, str]
    home: Path
    cwd: Path
    db: Optional[str] = None
    rules: Optional[str] = None
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def proxy_variable(self) -> Optional[str]:
        return next((name for name in ("HTTPS_PROXY", "https_proxy") if self.environ.get(name)), None)

    @property
    def proxy_url(self) -> str:
        """Where this shell's agents are sent: HTTPS_PROXY, else where Headroom is configured to listen."""
        variable = self.proxy_variable
        return self.environ[variable] if variable else configured_proxy_url(self.environ)

    @property
    def proxy_address(self) -> tuple[str, int]:
        parts = urlsplit(self.proxy_url if "://" in self.proxy_url else f"http://{self.proxy_url}")
        return parts.hostname or "127.0.0.1", parts.port or 8080

    @cached_property
    def health(self) -> Optional[dict[str, Any]]:
        """The proxy's /health, fetched through it once; None when it is not Headroom."""
        document = probe_health(self.proxy_url)
        return document if is_headroom(document) else None

    @property
    def db_target(self) -> str:
        """``--db`` (``@FILE`` read), else the running proxy's log unless its name hides a
        password, else ``$HEADROOM_DB``, else ``~/.headroom/flows.db``. Raises ``TargetError``."""
        from headroom_mitm.addon.store.target import MASK, resolve_target

        if self.db:
            return resolve_target(self.db)
        target = ((self.health or {}).get("database") or {}).get("target")
        if target and MASK not in target:
            return target
        return resolve_target(None, self.environ)

    @property
    def rules_path(self) -> Optional[str]:
        if self.rules:
            return self.rules
        used = (self.health or {}).get("rules")
        return None if used in (None, "default") else used

    @property
    def ca(self) -> Path:
        found = (self.health or {}).get("ca_cert")
        return Path(found) if found else self.home / ".mitmproxy" / "mitmproxy-ca-cert.pem"

    def shown(self, path: Path) -> str:
        try:
            return "~/" + str(path.relative_to(self.home))
        except ValueError:
            return str(path)
