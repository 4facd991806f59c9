"""mini-swe-agent's framing of a command's output, said in one marker line instead of two tags.

mini-swe-agent sends every command's result as::

    <returncode>0</returncode>            [headroom: exit 0]
    <output>                      ->      ./django/contrib/auth/validators.py
    ./django/contrib/auth/validators.py
    </output>

The tags cost about 15 tokens on every output, and an agent's conversation holds hundreds of
them, each resent on every turn; the marker costs 7. Only the exact framing is rewritten (an
output cut short by the agent, with ``<warning>`` and ``<output_head>``, is left as it is), and
the exit code stays where the model reads it first.

With ``quiet_success`` a command that exited 0 and printed something is sent as its output
alone, the way Claude Code's and most agents' shells report success: only a failure, or a
command that printed nothing, says its exit code. That drops the "exit 0", so it is lossy (the
framed original goes to the originals table); the shipped rules use it everywhere but on file
reads and error outputs, which keep every byte.

Run it last in a chain: the compressors before it look inside the framing (``_wrapper.unwrap``)
and leave it where it was.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ._base import Compressed, Context, lossless_or_unchanged, unchanged
from .markers import marker

KIND = "exit"
_FRAMED = re.compile(r"\A<returncode>(-?\d+)</returncode>\n<output>\n(.*)</output>\Z", re.S)
_MARKER_LINE = re.compile(r"\A\[headroom: exit (-?\d+)\](?:\n|\Z)")


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    match = _FRAMED.match(text) if text.startswith("<returncode>") else None
    if not match:
        return unchanged(text)
    code, body = match[1], match[2]
    if params.get("quiet_success") and code == "0" and body.strip():
        return Compressed(body, (text,))
    line = marker(KIND, code)
    return lossless_or_unchanged(text, f"{line}\n{body}" if body else line, restore)


def restore(text: str) -> str:
    match = _MARKER_LINE.match(text)
    if not match:
        return text
    return f"<returncode>{match[1]}</returncode>\n<output>\n{text[match.end():]}</output>"
