"""``headroom setup``: the proxy for every new shell and agent, its CA trusted, optionally a
service; ``--dry-run`` shows it, ``--undo`` takes it back byte for byte, ``--status`` tells."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

_EXAMPLES = """\
examples:
  headroom setup --dry-run            # every file it would change, what and why; writes nothing
  headroom setup                      # CA, bundle, shell rc blocks, Claude Code and Codex settings and MCP
  headroom setup --trust system --service
  headroom setup --status
  headroom setup --undo               # restores every file it changed
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "setup",
        help="route every new shell and agent through the proxy (undoable)",
        description="Create mitmproxy's CA if missing (without starting the proxy) and the bundle of "
        "system roots plus that CA; write the proxy and trust variables to ~/.headroom/env.sh and a "
        "managed block in your shell rc files that sources it; set them in Claude Code's "
        "settings.json env and Codex's .env; register headroom mcp (the model's way back to what "
        "markers leave out) in ~/.claude.json and ~/.codex/config.toml. Text outside its own blocks and keys is never touched. "
        "Running it again changes nothing; --undo restores each file as it was.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from headroom_mitm.addon.cli.proxy import configured_address

    host, port = configured_address()
    parser.add_argument("--host", default=host, help="the proxy's address (default: HEADROOM_HOST or %(default)s)")
    parser.add_argument("--port", type=int, default=port, help="the proxy's port (default: HEADROOM_PORT or %(default)s)")
    parser.add_argument("--confdir", default="~/.mitmproxy", help="mitmproxy's confdir (default: %(default)s)")
    parser.add_argument("--trust", choices=("none", "system"), default="none",
                        help="system: also install the CA into the operating system's trust store")
    parser.add_argument("--trust-root", default=None, metavar="DIR",
                        help="with --trust system: the trust store under DIR instead of / (an image being built)")
    parser.add_argument("--service", action="store_true",
                        help="install a user service that starts the proxy at login (systemd, launchd)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--dry-run", action="store_true", help="print every change and write nothing")
    action.add_argument("--undo", action="store_true", help="revert what setup did, from its record")
    action.add_argument("--status", action="store_true", help="show what setup installed")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from headroom_mitm.addon.setup import apply
    from headroom_mitm.addon.setup.steps import Target
    from headroom_mitm.addon.store.engine import default_db_path
    from headroom_mitm.addon.store.target import TargetError, resolve_target

    try:
        flow_log = resolve_target(None)
    except TargetError as exc:
        print(f"headroom setup: {exc}", file=sys.stderr)
        return 1
    home = Path.home()
    target = Target(
        home=home, headroom_home=default_db_path().parent, confdir=Path(os.path.expanduser(args.confdir)),
        host=args.host, port=args.port, trust=args.trust,
        trust_root=Path(args.trust_root) if args.trust_root else None, service=args.service, flow_log=flow_log,
    )
    if args.undo:
        return apply.undo(target, sys.stdout)
    if args.status:
        return apply.status(target, sys.stdout)
    return apply.setup(target, sys.stdout, dry_run=args.dry_run)
