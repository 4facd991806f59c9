"""``headroom original REF``: print content a compressor set aside, by a marker's reference."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy import select

from headroom_mitm.addon.store.engine import default_db_path, describe_target, is_url, make_engine
from headroom_mitm.addon.store.models import Original

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
    parser.add_argument("--db", default=None, help=f"flow log (default: {default_db_path()})")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    match = _REF.fullmatch(args.ref.strip().lower())
    if not match:
        err.write(f"headroom original: {args.ref!r} is not a reference (12 to 64 hex digits)\n")
        return 2
    target = args.db or str(default_db_path())
    if not is_url(target) and not Path(target).expanduser().is_file():
        err.write(f"headroom original: no flow log at {Path(target).expanduser()}\n")
        return 1
    engine = make_engine(target)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                select(Original.content).where(Original.hash.startswith(match.group(1))).limit(2)
            ).scalars().all()
    finally:
        engine.dispose()
    if not found:
        err.write(f"headroom original: nothing kept under #{match.group(1)} in {describe_target(target)}\n")
        return 1
    if len(found) > 1:
        err.write(f"headroom original: #{match.group(1)} matches more than one original: give more digits\n")
        return 1
    out.write(found[0])
    return 0
