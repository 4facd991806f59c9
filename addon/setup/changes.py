"""What setup does, as data: file edits and commands, each with what and why, and the record
of them that ``--undo`` reads."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

@dataclass
class FileEdit:
    path: Path
    after: Optional[bytes]
    """The file's new content (None: remove it)."""
    what: str
    why: str
    kind: str = "generated"
    """How ``--undo`` takes out only our part when the user changed the file since: ``generated``
    (the whole file is ours), ``block`` (a managed block), ``json-env`` (keys in ``env``) or
    ``json-members`` (keys in the top-level object ``container``)."""
    ours: dict[str, Any] = field(default_factory=dict)
    """For ``json-env`` and ``json-members``: the keys and values set."""
    container: str = "env"
    """For ``json-members``: the object holding them (Claude Code's ``mcpServers``)."""
    mode: Optional[int] = None
    """Permissions for a file created new (a private key: 0600)."""

    def current(self) -> Optional[bytes]:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    @property
    def needed(self) -> bool:
        return self.current() != self.after


@dataclass
class Commands:
    """Commands to run (``run``), to undo (``undo``), and what to tell the user when they fail."""

    name: str
    what: str
    why: str
    run: list[list[str]]
    undo: list[list[str]]
    by_hand: str
    """The commands to type when they cannot be run from here (no permission, no tool)."""
    undo_first: bool = False
    """Undo before the files are restored (a service is stopped before its unit file goes)."""


@dataclass
class Problem:
    """A step that cannot be planned: ``where`` (file:line) and what to do."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _missing_parents(path: Path) -> list[Path]:
    """The folders writing ``path`` will create, deepest first (undo removes them again)."""
    missing = []
    folder = path.parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    return missing


def sha256(content: Optional[bytes]) -> Optional[str]:
    return None if content is None else hashlib.sha256(content).hexdigest()


def write_atomically(path: Path, content: bytes, new_mode: Optional[int] = None) -> None:
    """Replace ``path`` in one step, keeping its permissions (``new_mode`` for a new file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else new_mode
    temporary = path.with_name(f".{path.name}.headroom-tmp")
    temporary.unlink(missing_ok=True)
    # created with its final permissions: a private key is never readable by others, even briefly
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644 if mode is None else mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    if mode is not None:
        os.chmod(temporary, mode)  # the umask may have narrowed it
    temporary.replace(path)


def run_commands(commands: list[list[str]]) -> Optional[str]:
    """Run each command in turn; None when all succeeded, else what went wrong."""
    for command in commands:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{command[0]}: {exc}"
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            return f"{' '.join(command)} exited with {done.returncode}" + (f": {detail[-1]}" if detail else "")
    return None


class Record:
    """``~/.headroom/setup.json``: each file's content before setup first changed it, and the
    commands that take back what was run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, dict] = {}
        self.commands: dict[str, dict] = {}
        self.settings: dict[str, str] = {}
        self.made_dirs: list[str] = [str(folder) for folder in _missing_parents(path)]
        if path.exists():
            data = json.loads(path.read_text())
            self.files = data.get("files", {})
            self.commands = data.get("commands", {})
            self.settings = data.get("settings", {})
            self.made_dirs = data.get("made_dirs", [])

    @property
    def exists(self) -> bool:
        return self.path.exists()

    def note_file(self, edit: FileEdit, before: Optional[bytes]) -> None:
        key = str(edit.path)
        entry = self.files.get(key)
        if entry is None:  # the first change keeps the true original; later ones only move "after"
            entry = {"before": None if before is None else base64.b64encode(before).decode("ascii"),
                     "made_dirs": [str(folder) for folder in _missing_parents(edit.path)]}
        entry.update(after_sha256=sha256(edit.after), what=edit.what, kind=edit.kind, ours=edit.ours,
                     container=edit.container)
        self.files[key] = entry

    def note_commands(self, commands: Commands) -> None:
        self.commands[commands.name] = {"what": commands.what, "undo": commands.undo, "by_hand": commands.by_hand,
                                        "undo_first": commands.undo_first}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {"version": 1, "saved_at": time.time(), "settings": self.settings, "made_dirs": self.made_dirs,
                    "files": self.files, "commands": self.commands}
        write_atomically(self.path, (json.dumps(document, indent=2) + "\n").encode())

    @staticmethod
    def before_of(entry: dict) -> Optional[bytes]:
        return None if entry["before"] is None else base64.b64decode(entry["before"])

