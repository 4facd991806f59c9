"""The addon's options: declared once for ``mitmdump --options``, validated once in configure."""

from __future__ import annotations

from dataclasses import dataclass

from mitmproxy import exceptions

MODES = ("cache", "token", "off")

DECLARATIONS = (
    (
        "headroom_db",
        str,
        "",
        "Where the flow log goes: a SQLite file path or any SQLAlchemy URL "
        "(postgresql+psycopg://user@host/db for a team). Empty: ~/.headroom/flows.db.",
    ),
    (
        "headroom_rules",
        str,
        "",
        "The YAML rule set that decides how tool outputs are compressed. Empty: the shipped "
        "rules/default.yaml. The file is re-read when it changes.",
    ),
    (
        "headroom_mode",
        str,
        "cache",
        "cache: compress each tool output once, never touching earlier turns, so the provider's "
        "prompt cache keeps hitting. token: also rewrite earlier turns for more savings, at the "
        "cost of cache hits. off: log every flow but never rewrite.",
    ),
    (
        "headroom_status",
        str,
        "",
        "Also serve the proxy's own pages (/health, /stats, /metrics) directly on this host:port, "
        "e.g. 127.0.0.1:9099, for Prometheus. Empty: only through the proxy at http://headroom.invalid/.",
    ),
)


@dataclass(frozen=True)
class Settings:
    db: str
    rules: str | None
    mode: str


def parse_settings(db: str, rules: str, mode: str) -> Settings:
    """Validates raw option values; raises OptionsError naming the option and the value."""
    mode = mode.strip().lower()
    if mode not in MODES:
        raise exceptions.OptionsError(
            f"headroom_mode={mode!r} is not a mode: use one of {', '.join(MODES)}"
        )
    db = db.strip()
    if "://" in db:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(db)
        except ArgumentError as exc:
            raise exceptions.OptionsError(f"headroom_db={db!r} is not a database URL: {exc}") from exc
    return Settings(db=db, rules=rules.strip() or None, mode=mode)
