"""``headroom stats``: how many tokens compression saved, by provider and model."""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional, TextIO

from sqlalchemy import inspect

from headroom_mitm.addon.cli.flow_log import DB_HELP
from headroom_mitm.addon.store.breakers import active_breakers
from headroom_mitm.addon.store.engine import make_engine
from headroom_mitm.addon.store.entries import BreakerTrip
from headroom_mitm.addon.store.errors import short_reason
from headroom_mitm.addon.store.queries import (
    GROUPINGS,
    MISS_CAUSES,
    CredentialRow,
    ToolRow,
    UsageRow,
    requests_by_credential,
    savings_by_tool,
    total_of,
    usage_by,
)
from headroom_mitm.addon.store.target import TargetError, describe_target, is_url, resolve_target

_EXAMPLES = """\
examples:
  headroom stats                          # the default log, ~/.headroom/flows.db
  headroom stats flows.db --since 7d      # the last seven days (also 12h, 30m, 2w)
  headroom stats --since 2025-06-01 --json
  headroom stats --by day --since 2w        # one row per UTC day; also --by session, --by tool
  headroom stats postgresql://proxy@db.internal/headroom
"""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="tokens and dollars saved, by provider and model, session, day or tool",
        description="Requests, request tokens before and after compression, the share saved, "
        "how much of the billed input the provider's prompt cache served, what the provider billed "
        "and what compression saved in USD, and the cache misses by cause; by provider and model "
        "unless --by says otherwise. A model with no price shows its dollars as unknown.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "db",
        nargs="?",
        default=None,
        metavar="DB",
        help=DB_HELP,
    )
    parser.add_argument(
        "--since",
        type=parse_since,
        default=None,
        metavar="WHEN",
        help="only flows started since WHEN: a duration back from now (30m, 12h, 7d, 2w) "
        "or a date/time (2025-06-01, 2025-06-01T09:00, UTC unless an offset is given)",
    )
    parser.add_argument("--by", choices=GROUPINGS, default="model",
                        help="one row per provider and model (the default), session, UTC day, or tool "
                        "(tool calls and their output tokens before and after; dollars are per request)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON for scripts")
    parser.set_defaults(func=run)


def parse_since(value: str, now: Optional[datetime] = None) -> datetime:
    """A ``--since`` value as an aware UTC datetime."""
    now = now or datetime.now(timezone.utc)
    match = _DURATION.match(value)
    if match:
        amount, unit = match.groups()
        return now - timedelta(seconds=float(amount) * _UNIT_SECONDS[unit])
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"cannot read {value!r} as a time: give a duration like 7d, 12h, 30m, 2w "
            "or a date like 2025-06-01"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class StatsError(Exception):
    """The flow log cannot be read; the message says which (password masked) and why, in one line."""


@dataclass(frozen=True)
class Usage:
    """What ``headroom stats`` reports."""

    rows: list[UsageRow]
    """By provider and model, session or day (the total is over these whatever the grouping)."""
    credentials: list[CredentialRow]
    """By agent and kind of credential: compressed or not, and why."""
    breakers: list[BreakerTrip]
    by: str = "model"
    tools: list[ToolRow] | None = None
    """By tool, when asked for (``--by tool``)."""


def stats_document(target: str, since: Optional[datetime] = None, by: str = "model") -> dict[str, Any]:
    """What ``headroom stats --json`` prints (and ``/stats`` answers) for the log at ``target``."""
    return _document(target, since, read_usage(target, since, by))


def _document(target: str, since: Optional[datetime], usage: Usage) -> dict[str, Any]:
    document = {
        "db": describe_target(target),
        "since": since.isoformat() if since else None,
        "by": usage.by,
        "rows": [row.as_dict() for row in usage.rows],
        "total": total_of(usage.rows).as_dict(),
        "by_credential": [row.as_dict() for row in usage.credentials],
        "breakers": [trip.as_dict() for trip in usage.breakers],
    }
    if usage.tools is not None:
        document["tools"] = [row.as_dict() for row in usage.tools]
    return document


def read_usage(target: str, since: Optional[datetime] = None, by: str = "model") -> Usage:
    """The figures of the log at ``target``; raises ``StatsError`` saying what is wrong."""
    if not is_url(target) and not Path(target).expanduser().is_file():
        raise StatsError(
            f"no flow log at {describe_target(target)}\n"
            "Run the proxy first (mitmdump -s headroom_addon.py), or name the file: headroom stats PATH"
        )
    try:
        engine = make_engine(target)
    except TargetError as exc:  # already names the database
        raise StatsError(str(exc)) from None
    except Exception as exc:
        # never chained: a driver's own message may quote the URL with its password
        raise StatsError(f"cannot use {describe_target(target)}: {short_reason(exc, target)}") from None
    try:
        with engine.connect() as connection:
            if "flows" not in inspect(connection).get_table_names():
                raise StatsError(f"{describe_target(target)} is not a headroom flow log (no flows table)")
            return Usage(usage_by(connection, "model" if by == "tool" else by, since),
                         requests_by_credential(connection, since=since), active_breakers(connection), by,
                         savings_by_tool(connection, since) if by == "tool" else None)
    except StatsError:
        raise
    except Exception as exc:
        raise StatsError(f"cannot use {describe_target(target)}: {short_reason(exc, target)}") from None
    finally:
        engine.dispose()


def run(args: argparse.Namespace, out: Optional[TextIO] = None, err: Optional[TextIO] = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        target = resolve_target(args.db)
        usage = read_usage(target, args.since, args.by)
    except (TargetError, StatsError) as exc:
        err.write(f"headroom stats: {exc}\n")
        return 1
    if args.json:
        out.write(json.dumps(_document(target, args.since, usage), indent=2) + "\n")
        return 0
    if usage.tools is not None:
        out.write(render_tools(usage.tools) + "\n")
    out.write(render_table(usage.rows, total_of(usage.rows), "model" if usage.by == "tool" else usage.by))
    if any(row.credential_kind != "unknown" for row in usage.credentials):  # older logs lack it
        out.write("\n" + render_credentials(usage.credentials))
    for breaker in usage.breakers:
        out.write(f"breaker tripped: {breaker.credential_kind} credential {breaker.credential_id} "
                  f"({breaker.provider}) passes unmodified since {breaker.tripped_at:%Y-%m-%d %H:%M} UTC: "
                  f"{breaker.reason} (headroom doctor)\n")
    if not usage.rows:
        since = f" since {args.since:%Y-%m-%d %H:%M} UTC" if args.since else ""
        out.write(f"no flows in {describe_target(target)}{since}\n")
    return 0


_COLUMNS = ("requests", "tokens before", "tokens after", "saved", "cache read", "billed $", "saved $",
            "cache misses")
_GROUP_COLUMNS = {"model": ("provider", "model"), "session": ("session",), "day": ("day (UTC)",)}


def render_table(rows: list[UsageRow], total: UsageRow, by: str = "model") -> str:
    """The rows and the total as an aligned text table."""
    groups = _GROUP_COLUMNS[by]
    numeric = (False,) * len(groups) + (True,) * (len(_COLUMNS) - 1) + (False,)

    def cells(row: UsageRow, total: bool = False) -> list[str]:
        if total:
            head = ["total"] + [""] * (len(groups) - 1)
        elif by == "model":
            head = [row.provider or "-", row.model or "-"]
        else:
            head = [row.group or "-"]
        return head + _cells(row)

    return _aligned(groups + _COLUMNS, [cells(row) for row in rows], numeric, total=cells(total, True))


_TOOL_COLUMNS = ("tool", "calls", "compressed", "tokens before", "tokens after", "saved", "compressors")


def render_tools(rows: list[ToolRow]) -> str:
    """Tool calls (each once) by tool, and what compression removed from their outputs."""
    cells = [[row.tool or "-", f"{row.calls:,}", f"{row.compressed:,}", f"{row.tokens_before:,}",
              f"{row.tokens_after:,}", _percent(row.tokens_before, row.tokens_after), _counted(row.compressors)]
             for row in rows]
    return _aligned(_TOOL_COLUMNS, cells, (False, True, True, True, True, True, False))


def _percent(before: int, after: int) -> str:
    return f"{100.0 * (before - after) / before:.1f}%" if before else "-"


_CREDENTIAL_COLUMNS = ("agent", "credential", "requests", "compressed", "unmodified (why)", "billed to")


def render_credentials(rows: list[CredentialRow]) -> str:
    """Which requests were compressed, per agent and kind of credential, and why the rest were not."""
    cells = [[row.agent, row.credential_kind, f"{row.requests:,}", f"{row.compressed:,}",
              _counted(row.unmodified), _counted(row.buckets)] for row in rows]
    return _aligned(_CREDENTIAL_COLUMNS, cells, (False, False, True, True, False, False))


def _aligned(columns: tuple[str, ...], cells: list[list[str]], numeric: tuple[bool, ...],
             total: list[str] | None = None) -> str:
    every = cells + ([total] if total else [])
    widths = [max(len(column), *(len(line[i]) for line in every)) for i, column in enumerate(columns)]

    def line(values: tuple[str, ...] | list[str]) -> str:
        return "  ".join(value.rjust(width) if right else value.ljust(width)
                         for value, width, right in zip(values, widths, numeric)).rstrip() + "\n"

    rule = "  ".join("-" * width for width in widths) + "\n"
    return line(columns) + rule + "".join(map(line, cells)) + (rule + line(total) if total else "")


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{count:,} {name}" for name, count in sorted(counts.items(), key=lambda kv: -kv[1])) or "-"


def _dollars(value: float, row: UsageRow) -> str:
    if row.unpriced and not value:
        return "unknown"
    text = f"{value:,.4f}" if abs(value) < 100 else f"{value:,.2f}"
    return text if row.priced else f"{text} + unknown"


def _cells(row: UsageRow) -> list[str]:
    saved = row.saved_percent
    share = row.cache_read_share
    misses = ", ".join(f"{row.misses[c]:,} {c}" for c in MISS_CAUSES if row.misses.get(c)) or "-"
    return [
        f"{row.requests:,}",
        f"{row.tokens_before:,}",
        f"{row.tokens_after:,}",
        "-" if saved is None else f"{saved:.1f}%",
        "-" if share is None else f"{share * 100:.1f}%",
        _dollars(row.cost_usd, row),
        _dollars(row.saved_usd, row),
        misses,
    ]
