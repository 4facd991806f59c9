"""``headroom original REF``: print content a compressor set aside, by a marker's reference."""

from __future__ import annotations

import argparse
import re
import sys
from typing import TextIO

from sqlalchemy import Engine, select

from headroom_mitm.addon.cli.flow_log import DB_HELP, run_on_flow_log
from headroom_mitm.addon.store.models import Original
from headroom_mitm.addon.store.target import describe_target

_EXAMPLE = """\
example:
  a tool output sent upstream holds   [headroom: log 1180 lines elided #3fa9c01b22de]
  headroom original 3fa9c01b22de      # prints the lines that marker stands for
"""

_REF = re.compile(r"#?([0-9a-f]{12,64})")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "original",
        help="print the original content behind a marker's #reference",
        description="Compressors that drop content keep the original in the flow log under its "
        "sha256; a marker's #ref is the first 12 hex digits of that hash.",
        epilog=_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("ref", metavar="REF", help="the reference, with or without its #")
    parser.add_argument("--db", default=None, help=DB_HELP)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    match = _REF.fullmatch(args.ref.strip().lower())
    if not match:
        err.write(f"headroom original: {args.ref!r} is not a reference (12 to 64 hex digits)\n")
        return 2
    ref = match.group(1)

    def show(engine: Engine, target: str) -> int:
        with engine.connect() as connection:
            found = connection.execute(
                select(Original.content).where(Original.hash.startswith(ref)).limit(2)
            ).scalars().all()
        if not found:
            err.write(f"headroom original: nothing kept under #{ref} in {describe_target(target)}\n")
            return 1
        if len(found) > 1:
            err.write(f"headroom original: #{ref} matches more than one original: give more digits\n")
            return 1
        out.write(found[0])
        return 0

    return run_on_flow_log("original", args.db, show, err)
