"""Read a command's exit code from the text an agent's shell tool returned.

Each agent reports it its own way; only the places where an agent puts it are looked at, so a
file that merely mentions "Exit code 2" is not taken for a failing command.

| agent | how it shows |
|---|---|
| mini-swe-agent | ``<returncode>1</returncode>`` before the output |
| Codex (shell) | a header line ``Exit code: 1`` before ``Output:`` |
| Codex (unified exec) | a header line ``Process exited with code 1`` |
| Codex (older) | JSON ``{"output": ..., "metadata": {"exit_code": 1, ...}}`` |
| Claude Code (Bash) | a failing command's result starts ``Exit code 1`` (``Error: Exit code 1`` in transcripts) |

SWE-agent's observations carry no exit code, so none is read from them.
"""

from __future__ import annotations

import json
import re

__all__ = ["exit_code_of"]

# The header an agent puts before a command's output is short; looking only there keeps an exit
# code printed *by* the command (or quoted in a file) from being mistaken for the tool's own.
_HEADER_CHARS = 400

_RETURNCODE_TAG = re.compile(r"<returncode>\s*(-?\d+)\s*</returncode>")
_HEADER_LINE = re.compile(r"(?m)^(?:Exit code:|Process exited with code)\s*(-?\d+)\s*$")
_LEADING_EXIT_CODE = re.compile(r"\A(?:Error: )?Exit code (-?\d+)\s*(?:\n|\Z)")


def exit_code_of(output: str) -> int | None:
    """The exit code ``output`` reports, or None when it reports none.

    >>> exit_code_of("<returncode>2</returncode>\\n<output>\\nls: cannot access 'x'</output>")
    2
    >>> exit_code_of("Exit code 128\\nfatal: not a git repository")
    128
    >>> exit_code_of("README.md\\nsetup.py") is None
    True
    """
    if not output:
        return None
    head = output[:_HEADER_CHARS]
    for pattern in (_RETURNCODE_TAG, _LEADING_EXIT_CODE, _HEADER_LINE):
        match = pattern.search(head)
        if match:
            return int(match.group(1))
    if head.lstrip().startswith("{") and '"exit_code"' in output:
        return _exit_code_from_json(output)
    return None


def _exit_code_from_json(output: str) -> int | None:
    try:
        document = json.loads(output)
    except ValueError:
        return None
    metadata = document.get("metadata") if isinstance(document, dict) else None
    code = metadata.get("exit_code") if isinstance(metadata, dict) else None
    if isinstance(code, bool) or not isinstance(code, int):
        return None
    return code
