"""``headroom proxy`` runs mitmdump with the addon; ``headroom script`` prints the file to load.

Both work from an installed wheel: the script ships inside the package, so no checkout is needed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from headroom_mitm.addon.script import SCRIPT

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def configured_address(environ: dict[str, str] | None = None) -> tuple[str, int]:
    """Where the proxy is meant to listen: ``HEADROOM_HOST``/``HEADROOM_PORT``, else 127.0.0.1:8080."""
    environ = os.environ if environ is None else environ
    host = environ.get("HEADROOM_HOST") or DEFAULT_HOST
    port_text = environ.get("HEADROOM_PORT") or str(DEFAULT_PORT)
    try:
        port = int(port_text)
    except ValueError:
        raise SystemExit(f"headroom: HEADROOM_PORT={port_text!r} is not a port number") from None
    return host, port


def mitmdump_command(host: str, port: int, extra: list[str]) -> list[str]:
    """The mitmdump command line of a proxy with the addon (mitmdump beside this interpreter)."""
    beside = Path(sys.executable).with_name("mitmdump")
    mitmdump = str(beside) if beside.exists() else (shutil.which("mitmdump") or "mitmdump")
    return [mitmdump, "--listen-host", host, "--listen-port", str(port), "-s", str(SCRIPT), *extra]


def register(subparsers: argparse._SubParsersAction) -> None:
    proxy = subparsers.add_parser(
        "proxy",
        help="run the proxy (mitmdump with the addon)",
        description="Run mitmdump with the Headroom addon, listening on HEADROOM_HOST:HEADROOM_PORT "
        "(default 127.0.0.1:8080). Arguments it does not know go to mitmdump.",
        epilog="examples:\n  headroom proxy\n  headroom proxy --port 8081 --set headroom_mode=off\n"
        "  headroom proxy --set headroom_status=127.0.0.1:9099   # pages for Prometheus\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    host, port = configured_address()
    proxy.add_argument("--host", default=host, help="address to listen on (default: %(default)s)")
    proxy.add_argument("--port", type=int, default=port, help="port to listen on (default: %(default)s)")
    proxy.set_defaults(func=run_proxy, passes_through=True)

    script = subparsers.add_parser(
        "script",
        help="print the path of the mitmdump script",
        description="Print the path of the addon script shipped in the package, for mitmdump -s.",
        epilog='example:\n  mitmdump -s "$(headroom script)" --listen-port 8080\n',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    script.set_defaults(func=lambda args: print(SCRIPT) or 0)


def run_proxy(args: argparse.Namespace) -> int:
    command = mitmdump_command(args.host, args.port, list(args.extra))
    os.execv(command[0], command)  # mitmdump handles its own signals and exit code
    return 0  # not reached
