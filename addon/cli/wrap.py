"""``headroom wrap [--] CMD ...``: run one command through the proxy, and nothing else.

It uses the Headroom proxy already running (found through its status page) or starts one for the
command's lifetime, gives the variables to that command only, forwards the signals it receives,
returns the command's exit code and stops what it started. The agent's base URL and credentials
are never touched, so subscription logins keep working.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from headroom_mitm.addon.cli.env import environment, write_bundle
from headroom_mitm.addon.cli.locate import (
    DEFAULT_CONFDIR, bundle_path_for, ca_of, configured_address, port_is_free, running_proxy, tidy_env,
)
from headroom_mitm.addon.cli.proxy import mitmdump_command
from headroom_mitm.addon.pages.registry import is_headroom, probe_health, run_dir

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
TERMINAL_SIGNALS = (signal.SIGINT, signal.SIGQUIT)

_EXAMPLES = """\
examples:
  headroom wrap claude -p "fix the failing test"
  headroom wrap -- codex exec "update the changelog"
  headroom wrap --new --set headroom_mode=off -- python agent.py   # a proxy of its own, options for it
"""


class WrapError(Exception):
    """The proxy could not be started; the message says why and carries its log."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "wrap",
        help="run one command through the proxy",
        description="Run CMD with the variables that route it through Headroom, set for CMD only. "
        "Uses the running Headroom proxy (HEADROOM_HOST:HEADROOM_PORT first, then any other), or "
        "starts one for the command's lifetime: on HEADROOM_PORT when that is free (so agents whose "
        "own settings name it agree), else on any free port. Signals go to CMD; its exit code is "
        "returned; a proxy wrap started is stopped.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--new", action="store_true", help="start a proxy of its own even when one is running")
    parser.add_argument("--port", type=int, default=None,
                        help="port for a proxy wrap starts (0: any free port; default: HEADROOM_PORT when free)")
    parser.add_argument("--confdir", default=None, help="mitmproxy confdir of a proxy wrap starts (default: ~/.mitmproxy)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="options",
                        help="a mitmdump option for the proxy wrap starts (repeatable; implies --new)")
    parser.add_argument("--script", action="append", default=[], metavar="FILE",
                        help="another mitmdump script for the proxy wrap starts (repeatable; implies --new)")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD", help="the command and its arguments")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        print("headroom wrap: give a command to run, e.g. headroom wrap claude", file=sys.stderr)
        return 2
    running = None if (args.new or args.options or args.script) else running_proxy()
    started: EphemeralProxy | None = None
    try:
        if running is not None:
            proxy_url, ca = running.proxy_url, ca_of(running)
        else:
            started = EphemeralProxy(_port_for(args.port), args.confdir, args.options, args.script).start()
            proxy_url, ca = started.url, started.ca
        bundle = write_bundle(ca, bundle_path_for(ca))
        return run_child(command, {**os.environ, **environment(proxy_url, ca, bundle)})
    except WrapError as exc:
        print(f"headroom wrap: {exc}", file=sys.stderr)
        return 1
    finally:
        if started is not None:
            started.stop()


def _port_for(requested: int | None) -> int:
    if requested is not None:
        return requested
    host, port = configured_address()
    return port if port_is_free(host, port) else 0


# ---- the child ---------------------------------------------------------------------------------


def run_child(command: list[str], env: dict[str, str]) -> int:
    """Run ``command``, forwarding signals to it; its exit code (128+N when signal N ended it)."""
    try:
        child = subprocess.Popen(command, env=env)
    except FileNotFoundError:
        print(f"headroom wrap: command not found: {command[0]}", file=sys.stderr)
        return 127
    except PermissionError:
        print(f"headroom wrap: cannot run {command[0]}: permission denied", file=sys.stderr)
        return 126

    def forward(signum: int, _frame: object) -> None:
        if signum in TERMINAL_SIGNALS and _terminal_reaches_child():
            return  # the terminal sent it to the child already: a second ^C would mean "exit" to some
        child.send_signal(signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED_SIGNALS}
    try:
        code = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - code if code < 0 else code


def _terminal_reaches_child() -> bool:
    """Whether we (and so the child, in our process group) are in the terminal's foreground group."""
    try:
        descriptor = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(descriptor) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(descriptor)


# ---- a proxy for the command's lifetime --------------------------------------------------------


class EphemeralProxy:
    """mitmdump with the addon in a session of its own (a ^C meant for the command never stops it)."""

    def __init__(self, port: int, confdir: str | None, options: list[str], scripts: list[str]) -> None:
        self.confdir = Path(confdir).expanduser() if confdir else DEFAULT_CONFDIR.expanduser()
        extra = ["--set", f"confdir={self.confdir}"]
        for script in scripts:
            extra += ["-s", script]
        for option in options:
            extra += ["--set", option]
        self._command = mitmdump_command(configured_address()[0], port, extra)
        self._process: subprocess.Popen[bytes] | None = None
        self._log = run_dir() / f"wrap-{os.getpid()}.log"
        self.url = ""

    @property
    def ca(self) -> Path:
        return ca_of(None, str(self.confdir))

    def start(self, timeout: float = START_TIMEOUT_S) -> "EphemeralProxy":
        self._log.parent.mkdir(parents=True, exist_ok=True)
        env = {**tidy_env(dict(os.environ)), "PYTHONUNBUFFERED": "1"}
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                self._command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        run_file = run_dir() / f"{self._process.pid}.json"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise WrapError(f"the proxy exited with code {self._process.returncode}:\n{self._log_tail()}")
            url = _first_url(run_file)
            if url and is_headroom(probe_health(url)):
                self.url = url
                return self
            time.sleep(0.1)
        self.stop()
        raise WrapError(f"the proxy did not answer within {timeout:.0f}s:\n{self._log_tail()}")

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
        self._log.unlink(missing_ok=True)
        self._process = None

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _first_url(run_file: Path) -> str | None:
    try:
        urls = json.loads(run_file.read_text())["proxy"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return urls[0] if urls else None
