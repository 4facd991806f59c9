"""``headroom options``: the addon's mitmproxy options, as ``mitmdump --options`` prints them.

mitmproxy 11 loads ``-s`` scripts only once the proxy runs, so ``mitmdump -s headroom_addon.py
--options`` stops before the addon has declared its options (later mitmproxy releases, which need
a newer Python, load scripts first). This prints the same listing from the same declarations.
"""

from __future__ import annotations

import argparse
import sys

from mitmproxy import optmanager

from headroom_mitm.addon.options import DECLARATIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "options",
        help="list the addon's mitmproxy options and their defaults",
        description="The options the addon adds to mitmproxy, with their defaults and help, in "
        "mitmproxy's own YAML format. Set them with mitmdump --set NAME=VALUE.",
        epilog="example:\n  headroom options\n  scripts/run --set headroom_mode=off\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    options = optmanager.OptManager()
    for name, typespec, default, help_text in DECLARATIONS:
        options.add_option(name, typespec, default, help_text)
    optmanager.dump_defaults(options, sys.stdout)
    return 0
