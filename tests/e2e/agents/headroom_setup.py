"""``headroom setup`` run in an agent's private HOME, as a user of the proxy runs it once: the
proxy and its CA in the agents' own config, ``headroom mcp`` (on the proxy's flow log) registered
with Claude Code and Codex, so their requests declare the retrieve tool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..conftest import Proxy

__all__ = ["HEADROOM", "run_headroom_setup"]

HEADROOM = Path(sys.executable).with_name("headroom")


def run_headroom_setup(home: Path, proxy: "Proxy", registered_in: str) -> str:
    """Run setup for ``proxy`` with HOME ``home`` (after the agent's own files are in place: setup
    edits them as a user's) and return what it printed; fail unless it registered the server in
    ``registered_in`` (as setup shows it, e.g. ``~/.claude.json``)."""
    env = {"HOME": str(home), "PATH": os.environ["PATH"], "SHELL": "/bin/bash",
           "HEADROOM_HOME": str(home / ".headroom"), "HEADROOM_DB": str(proxy.db_path)}
    done = subprocess.run([str(HEADROOM), "setup", "--port", str(proxy.port), "--confdir", str(proxy.process.confdir)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"wrote {registered_in}: headroom mcp" in done.stdout, done.stdout
    return done.stdout
