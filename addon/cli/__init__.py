"""The ``headroom`` command: one entry point, a subcommand per job.

Each subcommand lives in its own module with a ``register(subparsers)`` function that adds its
parser and sets ``func``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from headroom_mitm.addon import __version__

# The module that registers each subcommand (its ``register(subparsers)``). Only the module of the
# command being run is imported: ``headroom compress`` in a loop must not pay for SQLAlchemy or
# scikit-learn it never uses.
_SUBCOMMANDS = {
    "stats": "headroom_mitm.addon.cli.stats",
    "db": "headroom_mitm.addon.cli.db",
    "env": "headroom_mitm.addon.cli.env",
    "original": "headroom_mitm.addon.cli.original",
    "mcp": "headroom_mitm.addon.cli.mcp",
    "options": "headroom_mitm.addon.cli.options",
    "breaker": "headroom_mitm.addon.cli.breaker",
    "compress": "headroom_mitm.addon.cli.compress",
    "proxy": "headroom_mitm.addon.cli.proxy",
    "script": "headroom_mitm.addon.cli.proxy",
    "wrap": "headroom_mitm.addon.cli.wrap",
    "setup": "headroom_mitm.addon.cli.setup",
    "doctor": "headroom_mitm.addon.cli.doctor",
    "rules": "headroom_mitm.addon.cli.rules",
    "learn": "headroom_mitm.learn.cli",
    "import": "headroom_mitm.learn.cli",
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="headroom",
        description="Compress coding agents' tool outputs in flight, log every provider call, "
        "and learn from failures.",
    )
    parser.add_argument("--version", action="version", version=f"headroom {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    command = next((arg for arg in argv or () if not arg.startswith("-")), None)
    wanted = [_SUBCOMMANDS[command]] if command in _SUBCOMMANDS else list(dict.fromkeys(_SUBCOMMANDS.values()))
    for module_name in wanted:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    # a command that hands unknown arguments on (to mitmdump) says so with passes_through
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passes_through", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
