"""A managed block in a text file the user owns (shell rc files, Codex's ``.env``).

Only the lines between the markers are ours: text outside them never changes.
"""

from __future__ import annotations

START = "# headroom:setup:start"
END = "# headroom:setup:end"
_NOTE = "# managed by headroom setup: headroom setup --undo removes it"


def with_block(text: str, body: str) -> str:
    """``text`` with our block holding ``body`` (replaced in place, or appended at the end)."""
    block = f"{START}\n{_NOTE}\n{body.rstrip(chr(10))}\n{END}\n"
    span = _find(text)
    if span is not None:
        return text[: span[0]] + block + text[span[1]:]
    if not text:
        return block
    return text + ("" if text.endswith("\n") else "\n") + "\n" + block


def without_block(text: str) -> str:
    """``text`` with our block (and the blank line put before it) removed."""
    span = _find(text)
    if span is None:
        return text
    start, end = span
    before = text[:start]
    if before.endswith("\n\n"):
        before = before[:-1]
    return before + text[end:]


def has_block(text: str) -> bool:
    return _find(text) is not None


def _find(text: str) -> tuple[int, int] | None:
    start = text.find(START + "\n")
    if start < 0 or (start > 0 and text[start - 1] != "\n"):
        return None
    end = text.find(END, start)
    if end < 0:
        return None
    end += len(END)
    if text[end:end + 1] == "\n":
        end += 1
    return start, end
