"""The ``headroom`` command: one entry point, a subcommand per job.

Each subcommand lives in its own module with a ``register(subparsers)`` function that adds its
parser and sets ``func``; the modules are imported here so ``headroom --help`` lists them all.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from addon import __version__

# module path of each subcommand group; each exposes register(subparsers)
_SUBCOMMAND_MODULES = (
    "addon.cli.stats",
    "addon.cli.env",
    "addon.cli.original",
    "addon.cli.options",
    "addon.cli.compress",
    "rules.cli",
    "learn.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="headroom",
        description="Compress coding agents' tool outputs in flight, log every provider call, "
        "and learn from failures.",
    )
    parser.add_argument("--version", action="version", version=f"headroom {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in _SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # a subcommand whose module is not there yet must not take the others down
            if exc.name != module_name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
