"""Which database the flow log is, and how to name it in a message without its password.

The URL can come from the ``headroom_db`` option or a command's argument, from ``$HEADROOM_DB``,
or from a file (``@/path/to/file`` holds the URL): the last two keep a password out of
``/proc/<pid>/cmdline``. A PostgreSQL URL without a password also works with libpq's own
``~/.pgpass`` (or ``$PGPASSFILE``), which psycopg reads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

__all__ = [
    "ENV_VARIABLE",
    "TargetError",
    "default_db_path",
    "describe_target",
    "is_url",
    "mask_credentials",
    "resolve_target",
]

ENV_VARIABLE = "HEADROOM_DB"
MASK = "***"

# scheme://user:PASSWORD@ in any text. Greedy up to the last "@" before a space or quote, so an
# unescaped "@" or "/" inside the password (an unparsable URL) is masked whole too.
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:'\"]*:)(?P<password>[^\s'\"]+)@")
# libpq and SQLAlchemy also take the password as a query parameter
_QUERY_PASSWORD = re.compile(r"(?i)(?P<head>[?&]password=)(?P<password>[^&\s'\"]*)")


class TargetError(ValueError):
    """The database setting cannot be used; the message names it with its password masked."""


def default_db_path() -> Path:
    """``~/.headroom/flows.db``, or ``$HEADROOM_HOME/flows.db`` when that variable is set."""
    home = os.environ.get("HEADROOM_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".headroom"
    return base / "flows.db"


def is_url(url_or_path: str) -> bool:
    return "://" in url_or_path


def resolve_target(value: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> str:
    """The flow log to use: ``value`` when given, else ``$HEADROOM_DB``, else the default file.

    A value starting with ``@`` names a file whose content (one line, surrounding blanks ignored)
    is the URL or path.
    """
    environ = os.environ if environ is None else environ
    chosen = (value or "").strip() or environ.get(ENV_VARIABLE, "").strip()
    if not chosen:
        return str(default_db_path())
    if chosen.startswith("@"):
        return _read_target_file(Path(chosen[1:]).expanduser())
    return chosen


def _read_target_file(path: Path) -> str:
    try:
        content = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise TargetError(f"cannot read the database URL from {path}: {reason}") from None
    if not content:
        raise TargetError(f"{path} is empty: it should hold the database URL or path")
    if "\n" in content:
        raise TargetError(f"{path} holds more than one line: it should hold only the database URL or path")
    return content


def describe_target(url_or_path: str | os.PathLike[str]) -> str:
    """How to name the database in a message: the path, or the URL with its password masked
    (whether or not the URL can be parsed)."""
    target = os.fspath(url_or_path)
    if target == ":memory:":
        return target
    if not is_url(target):
        return str(Path(target).expanduser())
    return mask_credentials(target)


def mask_credentials(text: str, target: Optional[str] = None) -> str:
    """``text`` with every URL password in it masked, and the password of ``target`` wherever it
    appears on its own (a driver's error may quote it without the URL)."""
    if target:
        for password in _passwords_in(target):
            if len(password) >= 3:
                text = text.replace(password, MASK)
    text = _URL_PASSWORD.sub(lambda match: match.group("head") + MASK + "@", text)
    return _QUERY_PASSWORD.sub(lambda match: match.group("head") + MASK, text)


def _passwords_in(target: str) -> list[str]:
    found = [match.group("password") for match in _URL_PASSWORD.finditer(target)]
    found += [match.group("password") for match in _QUERY_PASSWORD.finditer(target)]
    # a URL-encoded password is also quoted decoded by some drivers
    from urllib.parse import unquote

    return [variant for password in found for variant in dict.fromkeys((password, unquote(password))) if variant]
