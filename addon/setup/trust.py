"""Putting mitmproxy's CA into the operating system's trust store, where that can be done.

Debian/Ubuntu (``update-ca-certificates``) and Fedora/RHEL (``update-ca-trust``, the store
``trust anchor`` writes to) take a file in an anchors folder and a refresh; macOS takes
``security add-trusted-cert`` into the login keychain. ``root`` points every path into another
tree (an image being built, a test), as DESTDIR does.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Optional

from headroom_mitm.addon.setup.changes import Commands, FileEdit

ANCHOR_NAME = "headroom-mitmproxy"


def _under(root: Optional[Path], path: str) -> Path:
    return Path(path) if root is None else root / path.lstrip("/")


def plan_trust(ca: Path, ca_pem: Optional[bytes], root: Optional[Path], platform: str = sys.platform):
    """The file edits and commands that trust ``ca``, or a plain message saying why not."""
    if platform == "darwin":
        keychain = str(Path("~/Library/Keychains/login.keychain-db").expanduser())
        run = [["security", "add-trusted-cert", "-r", "trustRoot", "-k", keychain, str(ca)]]
        undo = [["security", "remove-trusted-cert", str(ca)]]
        return [], Commands("trust", "trust mitmproxy's CA in the login keychain",
                            "so every program that uses the macOS trust store accepts the proxy", run, undo,
                            _by_hand(run))
    if shutil.which("update-ca-certificates") or (root and not shutil.which("update-ca-trust")):
        anchors = _under(root, "/usr/local/share/ca-certificates")
        refresh = ["update-ca-certificates"]
        if root is not None:
            refresh += ["--localcertsdir", str(anchors), "--etccertsdir", str(_under(root, "/etc/ssl/certs")),
                        "--certsconf", str(_under(root, "/etc/ca-certificates.conf")),
                        "--certsdir", str(_under(root, "/usr/share/ca-certificates")),
                        "--hooksdir", str(_under(root, "/etc/ca-certificates/update.d"))]
        anchor = anchors / f"{ANCHOR_NAME}.crt"
        store = "Debian/Ubuntu"
    elif shutil.which("update-ca-trust"):
        anchors = _under(root, "/etc/pki/ca-trust/source/anchors")
        refresh = ["update-ca-trust", "extract"] if root is None else []
        anchor = anchors / f"{ANCHOR_NAME}.pem"
        store = "Fedora/RHEL"
    else:
        return [], (
            "no system trust store tool found (update-ca-certificates, update-ca-trust or macOS security): "
            f"add {ca} to your system's trusted roots by hand"
        )
    if not _can_write(anchors):
        return [], (
            f"{anchors} is not writable by you, so mitmproxy's CA is not in the {store} trust store. Run:\n"
            f"  sudo mkdir -p {shlex.quote(str(anchors))} && sudo cp {shlex.quote(str(ca))} "
            f"{shlex.quote(str(anchor))}" + (f" && sudo {shlex.join(refresh)}" if refresh else "")
        )
    edit = FileEdit(anchor, ca_pem, f"mitmproxy's CA, for the {store} trust store",
                    "so programs that use the system roots accept the proxy")
    # Debian drops a removed certificate from its links only when rebuilding them afresh
    forget = refresh + ["--fresh"] if refresh[:1] == ["update-ca-certificates"] else refresh
    commands = Commands("trust", f"refresh the {store} trust store", "so it picks up the CA",
                        [refresh] if refresh else [], [forget] if forget else [],
                        _by_hand([refresh]) if refresh else "")
    return [edit], commands


def _by_hand(commands: list[list[str]]) -> str:
    return " && ".join(shlex.join(command) for command in commands)


def _can_write(folder: Path) -> bool:
    """Whether ``folder`` exists writable, or can be created: its nearest existing parent is a
    writable directory."""
    probe = folder
    while not probe.exists():
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK)
