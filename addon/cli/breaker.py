"""``headroom breaker``: credentials whose requests the proxy stopped rewriting, and re-arming them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from headroom_mitm.addon.store.breakers import active_breakers, reset_breakers
from headroom_mitm.addon.store.engine import default_db_path, describe_target, is_url, make_engine

_EXAMPLES = """\
examples:
  headroom breaker                       # list tripped breakers
  headroom breaker reset 3fa9c01b        # rewrite that credential's requests again (restart the proxy)
  headroom breaker reset --all
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "breaker",
        help="credentials whose requests the proxy stopped rewriting",
        description="When a provider refuses a rewritten request as third-party, or bills it to "
        "another bucket than the same credential's unmodified requests, the proxy stops rewriting "
        "that credential's requests and keeps the reason in the flow log. A proxy reads the log at "
        "start: restart it after a reset.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", nargs="?", choices=("list", "reset"), default="list")
    parser.add_argument("credential", nargs="?", metavar="ID", help="the credential id (a prefix will do)")
    parser.add_argument("--all", action="store_true", help="with reset: every tripped breaker")
    parser.add_argument("--db", default=None, help=f"flow log (default: {default_db_path()})")
    parser.add_argument("--json", action="store_true", help="print the breakers as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if args.action == "reset" and not (args.credential or args.all):
        err.write("headroom breaker reset: name a credential id, or give --all\n")
        return 2
    target = args.db or str(default_db_path())
    if not is_url(target) and not Path(target).expanduser().is_file():
        err.write(f"headroom breaker: no flow log at {Path(target).expanduser()}\n")
        return 1
    engine = make_engine(target)
    try:
        if args.action == "reset":
            with engine.begin() as connection:
                count = reset_breakers(connection, None if args.all else args.credential)
            out.write(f"re-armed {count} breaker{'s' if count != 1 else ''} in {describe_target(target)}"
                      + ("; restart the proxy to rewrite again\n" if count else "\n"))
            return 0 if count or args.all else 1
        with engine.connect() as connection:
            trips = active_breakers(connection)
    finally:
        engine.dispose()
    if args.json:
        out.write(json.dumps([trip.as_dict() for trip in trips], indent=2) + "\n")
    elif not trips:
        out.write("no breaker has tripped: rewriting is on for every credential the policy allows\n")
    for trip in trips if not args.json else ():
        out.write(f"{trip.credential_id}  {trip.credential_kind} ({trip.provider}) since "
                  f"{trip.tripped_at:%Y-%m-%d %H:%M} UTC: {trip.reason}\n")
    return 0
