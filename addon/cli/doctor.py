"""``headroom doctor``: each check ✓ or ✗ with the exact fix; ``--json`` for scripts."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

_EXAMPLES = """\
examples:
  headroom doctor                 # in the shell your agent runs in
  headroom doctor --json
  headroom doctor --db postgresql://proxy@db.internal/headroom --rules my-rules.yaml
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check that agents really go through the proxy, with the fix for what does not",
        description="Check, in this shell: the proxy listens where HTTPS_PROXY points (and who holds the "
        "port if not), it answers http://headroom.invalid/health, the CA exists and each client's trust "
        "variable holds it, NO_PROXY and agent settings send nothing around it, recent agent sessions "
        "reached the flow log, the log is writable, the rules are valid and no other package is 'headroom'.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--db", default=None,
        help="flow log, or @FILE holding it (default: the running proxy's, else $HEADROOM_DB, else ~/.headroom/flows.db)",
    )
    parser.add_argument("--rules", default=None, help="rules file (default: the running proxy's)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from headroom_mitm.addon.doctor.checks import run_checks
    from headroom_mitm.addon.doctor.context import Context

    context = Context(environ=dict(os.environ), home=Path.home(), cwd=Path.cwd(), db=args.db, rules=args.rules)
    results = run_checks(context)
    failed = any(result.ok is False for result in results)
    if args.json:
        print(json.dumps({"ok": not failed, "checks": [result.as_dict() for result in results]}, indent=2))
    else:
        for result in results:
            mark = {True: "✓", False: "✗", None: "-"}[result.ok]
            print(f"{mark} {result.check}: {result.detail}")
            if result.ok is False and result.fix:
                print(f"    fix: {result.fix}")
    return 1 if failed else 0
