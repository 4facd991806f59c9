"""A user service that starts the proxy at login and restarts it when it fails: a systemd user
unit on Linux, a launchd agent on macOS."""

from __future__ import annotations

import os
import plistlib
import shlex
import sys
from pathlib import Path

from headroom_mitm.addon.setup.changes import Commands, FileEdit

UNIT_NAME = "headroom.service"
LAUNCHD_LABEL = "com.headroom-mitm.proxy"
_PASSED_ON = ("HEADROOM_HOME", "TIKTOKEN_CACHE_DIR")


def proxy_command(host: str, port: int) -> list[str]:
    """The proxy as this installation runs it (this interpreter: no PATH needed at login)."""
    return [sys.executable, "-m", "headroom_mitm.addon.cli", "proxy", "--host", host, "--port", str(port)]


def plan_service(home: Path, host: str, port: int, log: Path, platform: str = sys.platform):
    command = proxy_command(host, port)
    environment = {name: os.environ[name] for name in _PASSED_ON if os.environ.get(name)}
    if platform == "darwin":
        plist = home / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist"
        content = plistlib.dumps({
            "Label": LAUNCHD_LABEL, "ProgramArguments": command, "RunAtLoad": True,
            "KeepAlive": {"SuccessfulExit": False}, "StandardOutPath": str(log), "StandardErrorPath": str(log),
            **({"EnvironmentVariables": environment} if environment else {}),
        })
        domain = f"gui/{os.getuid()}"
        run = [["launchctl", "bootstrap", domain, str(plist)]]
        undo = [["launchctl", "bootout", f"{domain}/{LAUNCHD_LABEL}"]]
        edit = FileEdit(plist, content, "a launchd agent that runs the proxy", "so it starts at login")
        return [edit], Commands("service", "load the launchd agent", "start the proxy now and at each login",
                                run, undo, " && ".join(shlex.join(c) for c in run), undo_first=True)
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    unit = config / "systemd" / "user" / UNIT_NAME
    lines = [
        "[Unit]",
        "Description=Headroom for mitmproxy: compresses coding agents' tool outputs in flight",
        "After=network-online.target",
        "",
        "[Service]",
        f"ExecStart={shlex.join(command)}",
        *(f"Environment={shlex.quote(f'{name}={value}')}" for name, value in environment.items()),
        "Restart=on-failure",
        "RestartSec=2",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ]
    run = [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", UNIT_NAME]]
    undo = [["systemctl", "--user", "disable", "--now", UNIT_NAME]]
    edit = FileEdit(unit, "\n".join(lines).encode(), "a systemd user unit that runs the proxy",
                    "so it starts at login and restarts when it fails")
    by_hand = " && ".join(shlex.join(c) for c in run) + f"  (and loginctl enable-linger {os.environ.get('USER', '$USER')} to start it at boot)"
    return [edit], Commands("service", "enable and start the systemd user unit",
                            "start the proxy now and at each login", run, undo, by_hand, undo_first=True)
