"""Which process listens on a TCP port: ``/proc`` on Linux, ``lsof`` elsewhere."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Holder:
    pid: int
    name: str
    command: str

    def __str__(self) -> str:
        return f"{self.name} (pid {self.pid}: {self.command})" if self.command else f"{self.name} (pid {self.pid})"


def holder_of(port: int) -> Holder | None:
    return _from_proc(port) if Path("/proc/net/tcp").exists() else _from_lsof(port)


def _from_proc(port: int) -> Holder | None:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    return _describe(int(entry.name))
        except OSError:
            continue  # another user's process, or gone
    return None


def _describe(pid: int) -> Holder:
    proc = Path("/proc") / str(pid)
    try:
        name = (proc / "comm").read_text().strip()
        command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        name, command = "?", ""
    return Holder(pid, name, command[:200])


def _from_lsof(port: int) -> Holder | None:
    if not shutil.which("lsof"):
        return None
    done = subprocess.run(["lsof", "-nP", f"-iTCP:{port}", "-sTCP:LISTEN", "-Fpc"],
                          capture_output=True, text=True, timeout=10)
    pid, name = None, "?"
    for line in done.stdout.splitlines():
        if line.startswith("p") and pid is None:
            pid = int(line[1:])
        elif line.startswith("c") and pid is not None:
            name = line[1:]
            break
    return Holder(pid, name, "") if pid is not None else None
