"""Carrying out a setup plan, taking it back from the record, and telling what is installed."""

from __future__ import annotations

import shlex
from pathlib import Path
import shutil
import subprocess
from typing import TextIO

from headroom_mitm.addon.setup import blocks
from headroom_mitm.addon.setup.changes import FileEdit, Record, run_commands, sha256, write_atomically
from headroom_mitm.addon.setup.jsonedit import JsonEditError, remove_members
from headroom_mitm.addon.setup.steps import Target, plan


def record_of(target: Target) -> Record:
    return Record(target.headroom_home / "setup.json")


def setup(target: Target, out: TextIO, dry_run: bool = False) -> int:
    result = plan(target)
    if result.problems:
        for problem in result.problems:
            out.write(f"headroom setup: {problem}\n")
        return 1
    record = record_of(target)
    verb = "would write" if dry_run else "wrote"
    changed = [edit for edit in result.edits if edit.needed]
    for edit in changed:
        out.write(f"{verb} {target.shown(edit.path)}: {edit.what} ({edit.why})\n")
        if not dry_run:
            record.note_file(edit, edit.current())
            record.settings = {"proxy": target.proxy_url, "confdir": str(target.confdir)}
            record.save()  # before the write: an interrupted setup can still be undone
            _write(edit)
    failed = False
    for commands, edits in result.commands:
        previous = record.commands.get(commands.name, {})
        if not any(edit in changed for edit in edits) and not previous.get("failed"):
            continue
        shown = " && ".join(shlex.join(command) for command in commands.run)
        if dry_run:
            out.write(f"would run {shown}: {commands.what} ({commands.why})\n")
            continue
        problem = run_commands(commands.run)
        record.note_commands(commands)
        record.commands[commands.name]["failed"] = problem is not None
        record.save()
        if problem:
            failed = True
            out.write(f"could not {commands.what}: {problem}\n  run it yourself: {commands.by_hand}\n")
        else:
            out.write(f"ran {shown}: {commands.what}\n")
    for note in result.notes:
        failed = True
        out.write(f"could not: {note}\n")
    if not changed and not failed:
        out.write("headroom setup: everything is already in place; nothing changed\n")
    elif not dry_run:
        out.write(f"done. Open a new shell (or: . {target.shown(target.env_file)}), then run your agent; "
                  "headroom doctor checks the route. headroom setup --undo takes it all back.\n")
        if not target.service:
            out.write(f"note: new shells now send agents to {target.proxy_url}: keep the proxy running there "
                      "(headroom proxy, or headroom setup --service to start it at login)\n")
    return 1 if failed else 0


def undo(target: Target, out: TextIO) -> int:
    record = record_of(target)
    if not record.exists:
        out.write("headroom setup --undo: nothing to undo (no record of a setup)\n")
        return 0
    _undo_commands(record, out, first=True)
    kept = False
    for path_text, entry in reversed(list(record.files.items())):
        edit = FileEdit(path=Path(path_text), after=None, what=entry["what"], why="",
                        kind=entry["kind"], ours=entry.get("ours") or {}, container=entry.get("container", "env"))
        current = edit.current()
        before = Record.before_of(entry)
        shown = target.shown(edit.path)
        if sha256(current) == entry["after_sha256"]:
            _restore(edit, before)
            _remove_empty(entry.get("made_dirs") or [])
            out.write(f"{'restored' if before is not None else 'removed'} {shown}\n")
        elif current is None:
            out.write(f"{shown} is already gone\n")
        else:
            partial = _without_ours(edit, current)
            if partial is None:
                kept = True
                out.write(f"kept {shown}: it changed since setup wrote it; remove it yourself if you want\n")
            else:
                write_atomically(edit.path, partial)
                out.write(f"took headroom's part out of {shown} (it changed since setup; the rest is kept)\n")
    _undo_commands(record, out, first=False)
    record.path.unlink()
    _remove_empty(record.made_dirs)
    out.write("headroom setup --undo: done\n")
    return 1 if kept else 0


def status(target: Target, out: TextIO) -> int:
    record = record_of(target)
    out.write(f"mitmproxy CA: {target.ca if target.ca.exists() else 'missing (headroom setup creates it)'}\n")
    if not record.exists:
        out.write("headroom setup has not been run (or was undone)\n")
        return 0
    out.write(f"set up for proxy {record.settings.get('proxy', '?')}:\n")
    for path_text, entry in record.files.items():
        current = FileEdit(Path(path_text), None, "", "").current()
        state = ("in place" if sha256(current) == entry["after_sha256"]
                 else "missing" if current is None else "changed since")
        out.write(f"  {target.shown(Path(path_text))}: {entry['what']} [{state}]\n")
    for name, entry in record.commands.items():
        out.write(f"  {name}: {entry['what']}{' [failed: ' + entry['by_hand'] + ']' if entry.get('failed') else ''}\n")
    if "service" in record.commands and shutil.which("systemctl"):
        active = subprocess.run(["systemctl", "--user", "is-active", "headroom.service"],
                                capture_output=True, text=True)
        out.write(f"  service: {(active.stdout or active.stderr).strip() or 'unknown'}\n")
    return 0


def _remove_empty(folders: list[str]) -> None:
    """Remove the folders setup created, deepest first, as long as nothing else is in them."""
    for folder in folders:
        try:
            Path(folder).rmdir()
        except OSError:
            return


def _write(edit: FileEdit) -> None:
    if edit.after is None:
        edit.path.unlink(missing_ok=True)
    else:
        write_atomically(edit.path, edit.after, edit.mode)


def _restore(edit: FileEdit, before: bytes | None) -> None:
    if before is None:
        edit.path.unlink(missing_ok=True)
    else:
        write_atomically(edit.path, before)


def _without_ours(edit: FileEdit, current: bytes) -> bytes | None:
    """``current`` without what setup put there, for a file the user changed since; None to keep it."""
    try:
        text = current.decode()
    except UnicodeDecodeError:
        return None
    if edit.kind == "block":
        return blocks.without_block(text).encode()
    if edit.kind in ("json-env", "json-members"):
        try:
            return remove_members(text, edit.container, edit.ours).encode()
        except (JsonEditError, ValueError):
            return None
    return None


def _undo_commands(record: Record, out: TextIO, first: bool) -> None:
    for name, entry in record.commands.items():
        if bool(entry.get("undo_first")) != first or not entry.get("undo"):
            continue
        problem = run_commands(entry["undo"])
        shown = " && ".join(shlex.join(command) for command in entry["undo"])
        out.write(f"could not undo {name}: {problem}\n  run it yourself: {shown}\n" if problem else f"ran {shown}\n")
