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
