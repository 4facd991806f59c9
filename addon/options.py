"""The addon's options: declared once for ``mitmdump --options``, validated once in configure."""

from __future__ import annotations

from dataclasses import dataclass, field

from mitmproxy import exceptions

from headroom_mitm.addon.modes import MODES, Mode, parse_mode

DECLARATIONS = (
    (
        "headroom_db",
        str,
        "",
        "Where the flow log goes: a SQLite file path or any SQLAlchemy URL "
        "(postgresql+psycopg://user@host/db for a team), or @FILE to read it from FILE. Empty: "
        "$HEADROOM_DB, else ~/.headroom/flows.db. Keep passwords off the command line: "
        "$HEADROOM_DB, @FILE, or ~/.pgpass with a password-less URL.",
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
    db: str = field(repr=False)
    """The flow log's path or URL, resolved (``$HEADROOM_DB``, ``@FILE``): it may hold a password."""
    rules: str | None
    mode: Mode


def parse_settings(db: str, rules: str, mode: str) -> Settings:
    """Validates raw option values; raises OptionsError naming the option and the value."""
    given = mode.strip().lower()
    try:
        known = parse_mode(given)
    except ValueError:
        raise exceptions.OptionsError(
            f"headroom_mode={given!r} is not a mode: use one of {', '.join(MODES)}"
        ) from None
    return Settings(db=_flow_log_target(db), rules=rules.strip() or None, mode=known)


def _flow_log_target(db: str) -> str:
    from headroom_mitm.addon.store.target import TargetError, describe_target, is_url, resolve_target

    shown = db.strip() or "(empty: $HEADROOM_DB)"
    try:
        target = resolve_target(db)
    except TargetError as exc:
        raise exceptions.OptionsError(f"headroom_db={describe_target(shown)}: {exc}") from None
    if is_url(target):
        from sqlalchemy.engine import make_url

        try:
            make_url(target)
        except Exception:
            # never chain SQLAlchemy's error: its message quotes the URL, password and all
            raise exceptions.OptionsError(
                f"headroom_db={describe_target(shown)}: {describe_target(target)} is not a database URL "
                "(expected e.g. postgresql://user@host/db)"
            ) from None
    return target
