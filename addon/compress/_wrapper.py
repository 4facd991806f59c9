"""mini-swe-agent wraps each command's output as ``<returncode>N</returncode><output>...</output>``.

Compressors that need the whole text to be one kind of content (grep output, a JSON document)
look inside the wrapper and leave its tags byte for byte where they were.
"""

from __future__ import annotations

import re

_WRAPPER = re.compile(r"\A(<returncode>-?\d+</returncode>\s*<output>\n?)(.*?)(\n?</output>\s*)?\Z", re.S)


def unwrap(text: str) -> tuple[str, str, str]:
    """(head, body, tail) with head + body + tail == text; head and tail empty when unwrapped."""
    match = _WRAPPER.match(text) if text.startswith("<returncode>") else None
    if not match:
        return "", text, ""
    return match[1], match[2], match[3] or ""


# Everything before the command's output in mini-swe-agent's framing: the exit code, the warning
# it adds to an output it cut short, and the tag that opens the output (or its head).
_HEAD = re.compile(r"\A<returncode>-?\d+</returncode>\n(?:<warning>.*?</warning>\s*)?<output(?:_head)?>\n?", re.S)


def framing_head(text: str) -> int:
    """How many leading characters of ``text`` are mini-swe-agent's framing (0 when none): what
    says this output's exit code, which a reference to another output must never stand for."""
    match = _HEAD.match(text) if text.startswith("<returncode>") else None
    return match.end() if match else 0
