"""``ls -l`` / ``ls -la`` rows without column padding; the common modes, owner, group and date said once.

A long listing spends most of its tokens on what every row repeats::

    drwxrwxrwx  1 root     root   4096 Oct 24  2024 .
    drwxr-xr-x  1 root     root   4096 Nov 19 00:15 ..
    -rw-r--r--  1 root     root    807 Oct 24  2024 .editorconfig
    drwxrwxrwx 18 root     root   4096 Oct 24  2024 django
    drwxrwxrwx  4 root     root   4096 Oct 24  2024 docs
    -rw-r--r--  1 www-data staff 12345 Oct 24  2024 notes.txt
    lrwxrwxrwx  1 root     root     11 Oct 24  2024 link -> target

becomes::

    [headroom: ls_long 7 rows unpadded: (mode) links (owner:group) size (date) name; omitted mode is -rw-r--r-- for files, drwxrwxrwx for directories shown as name/; omitted owner:group is root:root, date Oct 24 2024]
    1 4096 ./
    drwxr-xr-x 1 4096 Nov 19 00:15 ..
    1 807 .editorconfig
    18 4096 django/
    4 4096 docs/
    1 www-data:staff 12345 notes.txt
    lrwxrwxrwx 1 11 link -> target

A row says its mode only where it is not the one its type shares: a regular file with the
shared file mode starts at its link count, and so does a directory with the shared directory
mode, its name then followed by a ``/`` that is not part of it (``ls -F``'s ``src/`` becomes
``src//``). A mode never starts with a digit, so a row plainly starts with one or the other.
Symlinks, devices, rows with another mode and a regular file whose name ends in ``/`` keep their
mode.

A row names its owner and group (after the links; user and group names never hold a ``:``) or
its date (before the name) only where they differ from the shared ones. The restorer pads every
column back to its widest value, as ``ls`` does: mode, owner and group left-aligned, links and
size right-aligned, a numeric owner or group (an id with no name) right-aligned, a device's
``major, minor`` aligned on the comma. When a column is wider than its widest value (a listing
cut by ``head``, macOS's two spaces after owner and group) the marker says ``widths links 3 ...``.
Each run of consecutive rows gets its own marker with its row count, so a truncated last row,
``total N``, ``dir:`` headers and wrapper tags stay untouched around it.

Everything is checked: a run is rewritten only when its rendering restores to exactly its lines
and costs fewer o200k tokens (the marker costs about 45, a row saves about 10, so five or six rows
pay for it; a shared mode costs about 12 more and saves 6 on each row that omits it, so each run
states only the modes that pay for themselves), and the whole output only when it restores byte
for byte.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Mapping

from ..tokens import count_tokens
from ._base import Compressed, Context, lossless_or_unchanged, unchanged
from .markers import marker, parse_marker

KIND = "ls_long"
MIN_ROWS = 2
MAX_ID_EXTRA = 16
"""Most blanks an owner or group column is tried with beyond its widest name (the rest go to size)."""
LAYOUT = "unpadded: (mode) links (owner:group) size (date) name"
FILE_MODE = "{} for files"
DIR_MODE = "{} for directories shown as name/"
MODES_JOIN = ", "
DIR_SUFFIX = "/"
"""Follows a directory's name when its row leaves out the shared directory mode."""

# GNU and BSD default dates (``Oct 24  2024``, ``Nov 19 00:15``), then --time-style=long-iso
# and full-iso. A date is kept as written, so these only need to find where it starts and ends.
_DATE = r"(?:[A-Z][a-z]{2} [ \d]\d (?:\d\d:\d\d| \d{4})|\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d(?:\.\d+)? [+-]\d{4})?)"
_MODE = r"[-a-zA-Z?][-rwxsStTlL?]{9}[.+@]?"  # type, permissions, then ACL +, SELinux . or macOS @
_ROW = re.compile(
    rf"(?P<mode>{_MODE}) +(?P<links>\d+) +(?P<owner>\S+) +(?P<group>\S+)"
    rf" +(?P<size>\d+, +\d+|\S+) (?P<date>{_DATE}) (?P<name>.+)"
)
_COMPACT = re.compile(
    rf"(?:(?P<mode>{_MODE}) )?(?P<links>\d+) (?:(?P<owner>[^\s:]+):(?P<group>[^\s:]+) )?"
    rf"(?P<size>\S+) (?:(?P<date>{_DATE}) )?(?P<name>.*)"
)
_DATE_FIRST = re.compile(rf"{_DATE} ")
_DEVICE = re.compile(r"(\d+), *(\d+)")
_SHORT_DATE = re.compile(r"([A-Z][a-z]{2}) (\d{1,2}) (\d\d:\d\d|\d{4})")
_DETAIL = re.compile(
    rf"(?P<count>\d+) rows {re.escape(LAYOUT)};(?: omitted mode is (?P<modes>[^;]+);)? omitted owner:group is"
    r" (?P<owner>[^\s:]+):(?P<group>[^\s:]+), date (?P<date>.+?)"
    r"(?:; widths (?P<widths>[a-z]+ \d+(?: [a-z]+ \d+)*))?"
)
_MODES = re.compile(
    rf"(?:{re.escape(FILE_MODE).replace(re.escape('{}'), f'(?P<file>{_MODE})')})?(?:{re.escape(MODES_JOIN)})?"
    rf"(?:{re.escape(DIR_MODE).replace(re.escape('{}'), f'(?P<dir>{_MODE})')})?"
)
_STATED_WIDTHS = ("links", "owner", "group", "size")
"""The columns whose width may exceed their widest value; the others are always that wide."""


@dataclass(frozen=True)
class Row:
    mode: str
    links: str
    owner: str
    group: str
    size: str | tuple[str, str]
    """The size, or a character or block device's (major, minor)."""
    date: str
    name: str


@dataclass(frozen=True)
class SharedModes:
    """The modes a row may omit: its regular files' and its directories' (None: always said)."""

    file: str | None = None
    dir: str | None = None

    def clause(self) -> str:
        return MODES_JOIN.join(([FILE_MODE.format(self.file)] if self.file else [])
                           + ([DIR_MODE.format(self.dir)] if self.dir else []))

    def omits(self, row: Row) -> bool:
        if row.mode.startswith("d"):
            return row.mode == self.dir
        # A file name ending in / would read as a directory's: such a row says its mode.
        return row.mode.startswith("-") and row.mode == self.file and not row.name.endswith(DIR_SUFFIX)


def _shared_modes(text: str) -> SharedModes:
    """The modes a marker states, read back from its clause; a clause that is not exactly how
    ``clause`` writes them is refused, so no marker reads two ways."""
    found = _MODES.fullmatch(text)
    modes = SharedModes(found["file"], found["dir"]) if found else SharedModes()
    if not modes.clause() or modes.clause() != text:
        raise ValueError(f"not a clause of shared modes: {text!r}")
    return modes


@dataclass(frozen=True)
class Widths:
    mode: int
    links: int
    owner: int
    group: int
    size: int
    major: int
    minor: int


def _parse_row(line: str) -> Row | None:
    match = _ROW.fullmatch(line)
    if not match:
        return None
    device = _DEVICE.fullmatch(match["size"])
    size = (device[1], device[2]) if device else match["size"]
    return Row(match["mode"], match["links"], match["owner"], match["group"], size, match["date"], match["name"])


def _natural(rows: list[Row]) -> Widths:
    """Every column as wide as its widest value, the way ``ls`` pads them."""
    devices = [row.size for row in rows if isinstance(row.size, tuple)]
    major = max((len(major) for major, _ in devices), default=0)
    minor = max((len(minor) for _, minor in devices), default=0)
    sizes = [len(row.size) for row in rows if isinstance(row.size, str)]
    if devices:
        sizes.append(major + 2 + minor)
    return Widths(
        mode=max(len(row.mode) for row in rows),
        links=max(len(row.links) for row in rows),
        owner=max(len(row.owner) for row in rows),
        group=max(len(row.group) for row in rows),
        size=max(sizes),
        major=major,
        minor=minor,
    )


def _id_cell(name: str, width: int) -> str:
    # ls prints a name left-aligned but an id it found no name for as a right-aligned number.
    return name.rjust(width) if name.isdigit() else name.ljust(width)


def _render(row: Row, widths: Widths) -> str:
    if isinstance(row.size, tuple):
        size = f"{row.size[0].rjust(widths.major)}, {row.size[1].rjust(widths.minor)}"
    else:
        size = row.size
    return " ".join([
        row.mode.ljust(widths.mode), row.links.rjust(widths.links), _id_cell(row.owner, widths.owner),
        _id_cell(row.group, widths.group), size.rjust(widths.size), row.date, row.name,
    ])


def _fit_widths(lines: list[str], rows: list[Row]) -> Widths | None:
    """The column widths that render ``rows`` back to exactly ``lines``, or None."""
    natural = _natural(rows)
    first = _ROW.fullmatch(lines[0])
    links = first.end("links") - natural.mode - 1
    owner_start = first.end("links") + 1
    # Blanks between links and date beyond the widest values belong to the owner, group or size
    # column; natural widths are tried first, so a marker only states widths ls really widened.
    slack = first.start("date") - 1 - (owner_start + natural.owner + 1 + natural.group + 1 + natural.size)
    if links < natural.links or slack < 0:
        return None
    for owner_extra in range(min(slack, MAX_ID_EXTRA) + 1):
        for group_extra in range(min(slack - owner_extra, MAX_ID_EXTRA) + 1):
            widths = replace(natural, links=links, owner=natural.owner + owner_extra,
                             group=natural.group + group_extra, size=natural.size + slack - owner_extra - group_extra)
            if all(_render(row, widths) == line for row, line in zip(rows, lines)):
                return widths
    return None


def _most_common(values: list[Any]) -> Any:
    return Counter(values).most_common(1)[0][0]


def _compact_row(row: Row, ids: tuple[str, str], date: str, modes: SharedModes) -> str:
    omit_mode = modes.omits(row)
    parts = [row.links] if omit_mode else [row.mode, row.links]
    if (row.owner, row.group) != ids:
        parts.append(f"{row.owner}:{row.group}")
    parts.append(",".join(row.size) if isinstance(row.size, tuple) else row.size)
    # A name that itself starts with a date would be read as this row's date: say the date.
    if row.date != date or _DATE_FIRST.match(row.name):
        parts.append(row.date)
    parts.append(row.name + DIR_SUFFIX if omit_mode and row.mode.startswith("d") else row.name)
    return " ".join(parts)


def _compact_run(lines: list[str]) -> list[str] | None:
    """The marker and unpadded rows for a run of long-listing rows, or None to keep the run."""
    rows = [_parse_row(line) for line in lines]
    widths = _fit_widths(lines, rows)
    if widths is None:
        return None
    ids = _most_common([(row.owner, row.group) for row in rows])
    date = _most_common([row.date for row in rows])
    natural = _natural(rows)
    wider = [f"{name} {getattr(widths, name)}" for name in _STATED_WIDTHS
             if getattr(widths, name) != getattr(natural, name)]
    best, best_tokens = None, count_tokens("\n".join(lines))
    # A shared mode costs about 12 tokens in the marker and saves about 6 a row: with one or two
    # rows of a type, stating its mode costs more than it saves, so each choice is measured.
    for modes in _mode_choices(rows):
        detail = f"{len(rows)} rows {LAYOUT};"
        if modes.clause():
            detail += f" omitted mode is {modes.clause()};"
        detail += f" omitted owner:group is {ids[0]}:{ids[1]}, date {date}"
        if wider:
            detail += "; widths " + " ".join(wider)
        out = [marker(KIND, detail)] + [_compact_row(row, ids, date, modes) for row in rows]
        tokens = count_tokens("\n".join(out))
        if tokens < best_tokens and _expands_to(out, lines):
            best, best_tokens = out, tokens
    return best


def _mode_choices(rows: list[Row]) -> list[SharedModes]:
    """Every way to state the most common regular file and directory modes, or not."""
    files = [row.mode for row in rows if row.mode.startswith("-") and not row.name.endswith(DIR_SUFFIX)]
    dirs = [row.mode for row in rows if row.mode.startswith("d")]
    file_modes = [None] + ([_most_common(files)] if files else [])
    dir_modes = [None] + ([_most_common(dirs)] if dirs else [])
    return [SharedModes(file, dir) for file in file_modes for dir in dir_modes]


def _expands_to(out: list[str], lines: list[str]) -> bool:
    try:
        return _expand(out[0], out[1:]) == lines
    except ValueError:
        return False


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    lines = text.split("\n")
    is_row = [bool(_ROW.fullmatch(line)) for line in lines]
    if sum(is_row) < MIN_ROWS:
        return unchanged(text)
    out: list[str] = []
    index = 0
    while index < len(lines):
        end = index
        while end < len(lines) and is_row[end]:
            end += 1
        if end - index >= MIN_ROWS:
            compact = _compact_run(lines[index:end])
            out.extend(compact if compact is not None else lines[index:end])
            index = end
        else:
            out.extend(lines[index:max(end, index + 1)])
            index = max(end, index + 1)
    candidate = "\n".join(out)
    if candidate == text or count_tokens(candidate) >= count_tokens(text):
        return unchanged(text)
    return lossless_or_unchanged(text, candidate, restore)


def _shared_date(written: str) -> str:
    """The shared date as ``ls`` wrote it: the marker keeps single spaces, ``ls`` pads the day
    and the year (``Oct  5  2024``) to line up with ``Nov 19 00:15``."""
    short = _SHORT_DATE.fullmatch(written)
    if not short:
        return written
    return f"{short[1]} {short[2]:>2} {short[3]:>5}"


def _expand(marker_line: str, compact: list[str]) -> list[str]:
    """The original rows of one run: its marker line and its unpadded rows."""
    detail = _DETAIL.fullmatch(parse_marker(marker_line).detail)
    if detail is None or len(compact) != int(detail["count"]):
        raise ValueError(f"not an {KIND} marker with {len(compact)} rows: {marker_line!r}")
    date = _shared_date(detail["date"])
    modes = _shared_modes(detail["modes"]) if detail["modes"] is not None else SharedModes()
    rows: list[Row] = []
    for line in compact:
        match = _COMPACT.fullmatch(line)
        if match is None:
            raise ValueError(f"not an unpadded {KIND} row: {line!r}")
        device = re.fullmatch(r"(\d+),(\d+)", match["size"])
        mode, name = match["mode"], match["name"]
        if mode is None:
            mode = modes.dir if name.endswith(DIR_SUFFIX) else modes.file
            if mode is None:
                raise ValueError(f"{KIND} row with no mode and no shared one for it: {line!r}")
            if name.endswith(DIR_SUFFIX):
                name = name[: -len(DIR_SUFFIX)]
        rows.append(Row(
            mode=mode, links=match["links"],
            owner=match["owner"] or detail["owner"], group=match["group"] or detail["group"],
            size=(device[1], device[2]) if device else match["size"],
            date=match["date"] or date, name=name,
        ))
    widths = _natural(rows)
    stated = (detail["widths"] or "").split()
    for name, value in zip(stated[::2], stated[1::2]):
        if name not in _STATED_WIDTHS:
            raise ValueError(f"unknown column {name!r} in {marker_line!r}")
        widths = replace(widths, **{name: int(value)})
    return [_render(row, widths) for row in rows]


def restore(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        found = parse_marker(line) if line.startswith(f"[headroom: {KIND} ") else None
        detail = _DETAIL.fullmatch(found.detail) if found is not None and found.kind == KIND else None
        if detail is None:
            out.append(line)
            index += 1
            continue
        count = int(detail["count"])
        out.extend(_expand(line, lines[index + 1 : index + 1 + count]))
        index += 1 + count
    return "\n".join(out)
