"""Python traceback frames written the short way a model reads just as well, losslessly.

Every frame line of a traceback spends about 20 tokens, much of it on the quoting around the
path and the words ``line`` and ``in``; a stack through one library repeats the same path frame
after frame. Frames are rewritten as ``path:line in function``, and a frame in the file of the
frame just above it drops the path::

    Traceback (most recent call last):
      File "/testbed/django/db/models/base.py", line 919, in delete
        return collector.delete()
      File "/testbed/django/db/models/base.py", line 628, in refresh_from_db
        db_instance = db_instance_qs.get()
    delete.models.S.DoesNotExist: S matching query does not exist.

is written, once the stack is deep enough to pay for the marker (about 14 tokens, 22 with the
same-file note; a frame saves about 4, one without its path about 13)::

    Traceback (most recent call last):
    [headroom: traceback frames as path:line in function; :line = same file as above]
      /testbed/django/db/models/base.py:919 in delete
        return collector.delete()
      :628 in refresh_from_db
        db_instance = db_instance_qs.get()
    delete.models.S.DoesNotExist: S matching query does not exist.

Only frame lines change: the source and caret lines under them, the ``Traceback`` header, the
exception, chained-exception text, pytest's ``path:line: Error`` lines and any wrapper tags stay
byte for byte. A frame without ``, in function`` (a ``SyntaxError``'s) and one whose path or
function holds a space or a quote (``<frozen importlib._bootstrap>`` excepted), or whose path
starts with ``|``, is left as it was.
A path is dropped only when the frame above is in the same traceback (nothing but deeper
indented source lines between them), so the reader never looks past an exception for it.

One marker before the first rewritten frame says how to read them; only lines after it are read
back, and only in the form the marker names. Of the renderings with and without dropped paths,
the one with fewer tokens is used, and only when it restores to exactly the input, so a line
that merely looks like a short frame costs the compression of that output, never a byte. (An
output that already holds this marker line is left as it was; ``restore`` reads the first such
marker as its own, so it is meant for this compressor's output.)
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ._base import Compressed, Context, fewest_tokens_restoring, unchanged
from .markers import marker, parse_marker

KIND = "traceback"
NOTE = "frames as path:line in function"
SAME_FILE_NOTE = NOTE + "; :line = same file as above"

# The indent takes the ``|`` rails an ExceptionGroup draws around its sub-tracebacks; a path
# never starts with one, so where the indent ends is never in doubt (and never backtracked).
_INDENT = r"(?P<indent>[ \t|]*)"
_PATH = r"<frozen [^\s<>\"]+>|[^\s\"|][^\s\"]*?"
_FUNC = r"(?P<func>\S+)(?P<end>\r?)"
_FRAME = re.compile(_INDENT + rf'File "(?P<path>{_PATH})", line (?P<line>[0-9]+), in {_FUNC}')
_COMPACT = re.compile(_INDENT + rf"(?P<path>{_PATH}):(?P<line>[0-9]+) in {_FUNC}")
_SAME_FILE = re.compile(_INDENT + rf":(?P<line>[0-9]+) in {_FUNC}")


def _frame(line: str) -> re.Match[str] | None:
    """The frame ``line`` is, in Python's own form, when it may be rewritten."""
    return _FRAME.fullmatch(line) if 'File "' in line else None


def _compact(indent: str, path: str, number: str, func: str, end: str) -> str:
    return f"{indent}{path}:{number} in {func}{end}"


def _reads_back(rendered: str, frame: re.Match[str], same_file: bool) -> bool:
    """Whether ``rendered`` parses back to exactly ``frame``'s parts. The path grammar (no spaces,
    no leading ``|``) is meant to make this always hold; a frame it missed stays in Python's form
    rather than costing the whole output its compression."""
    back = (_SAME_FILE if same_file else _COMPACT).fullmatch(rendered)
    parts = ("indent", "line", "func", "end") if same_file else ("indent", "path", "line", "func", "end")
    return back is not None and all(back[part] == frame[part] for part in parts)


def _deeper(line: str, indent: str) -> bool:
    """A source or caret line under a frame at ``indent``: indented further than the frame."""
    return len(line) > len(indent) and line.startswith(indent) and line[len(indent)] in " \t"


def _render(lines: list[str], same_file: bool) -> str | None:
    """The text with its frames rewritten (``same_file``: without the path of the frame above when
    it is the same), or None when no frame could be."""
    out: list[str] = []
    previous: tuple[int, str, str] | None = None  # (out index, indent, path) of the last frame rewritten
    marker_at: int | None = None
    dropped_path = False
    for line in lines:
        frame = _frame(line)
        rendered = None
        if frame is not None:
            indent, path = frame["indent"], frame["path"]
            parts = (frame["line"], frame["func"], frame["end"])
            if (same_file and previous is not None and previous[1:] == (indent, path)
                    and all(_deeper(between, indent) for between in out[previous[0] + 1 :])):
                rendered = _compact(indent, "", *parts)
                if not _reads_back(rendered, frame, same_file=True):
                    rendered = None
            if rendered is None:
                rendered = _compact(indent, path, *parts)
                if not _reads_back(rendered, frame, same_file=False):
                    rendered = None
            else:
                dropped_path = True
        if rendered is None:
            out.append(line)
            continue
        if marker_at is None:
            marker_at = len(out)
            out.append("")  # the marker's place, filled in once we know which note it needs
        previous = (len(out), frame["indent"], frame["path"])
        out.append(rendered)
    if marker_at is None:
        return None
    out[marker_at] = marker(KIND, SAME_FILE_NOTE if dropped_path else NOTE)
    return "\n".join(out)


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    if 'File "' not in text:
        return unchanged(text)
    lines = text.split("\n")
    # Dropping repeated paths needs a longer note, which a short traceback may not pay back.
    candidates = [rendered for same_file in (True, False) if (rendered := _render(lines, same_file))]
    return fewest_tokens_restoring(text, candidates, restore)



def restore(text: str) -> str:
    if f"[headroom: {KIND} " not in text:
        return text
    lines = text.split("\n")
    at = next((i for i, line in enumerate(lines) if _note_of(line)), None)
    if at is None:
        return text
    same_file = _note_of(lines[at]) == SAME_FILE_NOTE
    out = lines[:at]
    path: str | None = None
    for line in lines[at + 1 :]:
        frame = _COMPACT.fullmatch(line) or (_SAME_FILE.fullmatch(line) if same_file else None)
        if frame is None:
            out.append(line)
            continue
        if "path" in frame.groupdict():
            path = frame["path"]
        elif path is None:
            raise ValueError(f"frame {line!r} names no file and has no frame above it")
        out.append(f'{frame["indent"]}File "{path}", line {frame["line"]}, in {frame["func"]}{frame["end"]}')
    return "\n".join(out)


def _note_of(line: str) -> str | None:
    found = parse_marker(line) if line.startswith(f"[headroom: {KIND} ") else None
    if found is None or found.kind != KIND or found.detail not in (NOTE, SAME_FILE_NOTE):
        return None
    return found.detail
