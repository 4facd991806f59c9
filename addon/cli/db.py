"""``headroom db current|upgrade``: where a flow log's schema stands, and bringing it forward.

The proxy upgrades the log it opens by itself; these are for people who run it by hand (before
rolling out a new release to a team, or to check what a shared log holds).
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, TextIO

from sqlalchemy import Engine

from headroom_mitm.addon.cli.flow_log import DB_HELP, run_on_flow_log
from headroom_mitm.addon.store.target import describe_target

_EXAMPLES = """\
examples:
  headroom db current                                 # the default log, ~/.headroom/flows.db
  headroom db upgrade @~/.headroom/team-db            # the URL in that file
  HEADROOM_DB=postgresql://proxy@db.internal/headroom headroom db upgrade
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "db",
        help="the flow log's schema revision: show it, or upgrade to this release's",
        description="The flow log's schema is versioned (Alembic revisions shipped with headroom). "
        "A proxy upgrades the log it opens; a log upgraded by a newer release is refused.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    current = actions.add_parser("current", help="print the log's revision and this release's newest")
    current.add_argument("db", nargs="?", default=None, metavar="DB", help=DB_HELP)
    current.set_defaults(func=run_current)
    upgrade = actions.add_parser("upgrade", help="upgrade the log to this release's newest revision")
    upgrade.add_argument("db", nargs="?", default=None, metavar="DB", help=DB_HELP)
    upgrade.set_defaults(func=run_upgrade)


def run_current(args: argparse.Namespace, out: Optional[TextIO] = None, err: Optional[TextIO] = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr

    def show(engine: Engine, target: str) -> int:
        from headroom_mitm.addon.store.schema import schema_state

        with engine.connect() as connection:
            state = schema_state(connection)
        if state.current:
            where = f"{state.revision} (head: up to date)"
        elif state.empty:
            where = "none: no flow log tables yet (headroom db upgrade creates them)"
        elif state.legacy:
            where = "none: a log from before migrations (headroom db upgrade stamps it, keeping every row)"
        elif not state.known:
            where = f"{state.revision}: newer than this headroom; upgrade headroom to use it"
        else:
            where = f"{state.revision} (behind: headroom db upgrade brings it to {state.head})"
        out.write(f"flow log: {describe_target(target)}\nrevision: {where}\nhead:     {state.head}\n")
        return 0 if state.known else 1

    return run_on_flow_log("db current", args.db, show, err)


def run_upgrade(args: argparse.Namespace, out: Optional[TextIO] = None, err: Optional[TextIO] = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr

    def upgrade(engine: Engine, target: str) -> int:
        from headroom_mitm.addon.store.schema import ensure_schema

        done = ensure_schema(engine)
        name = describe_target(target)
        if not done.changed:
            out.write(f"{name}: already at {done.after} (head)\n")
        elif done.before.empty:
            out.write(f"{name}: created the flow log at {done.after}\n")
        elif done.before.legacy:
            out.write(f"{name}: a log from before migrations, stamped and upgraded to {done.after}\n")
        else:
            out.write(f"{name}: upgraded from {done.before.revision} to {done.after}\n")
        return 0

    # a missing SQLite file is created: upgrading "nothing" to the newest schema is making it
    return run_on_flow_log("db upgrade", args.db, upgrade, err, create=True)
