"""The framings recognised out of the box, by shape. A rule file's ``framings`` are tried first.

| framing | shape (example) | where |
|---|---|---|
| ``returncode`` | ``<returncode>1</returncode>\\n<output>\\n...</output>`` | mini-swe-agent 1.x, 2.x text config: a user message after a ```` ```bash ```` / ```` ```mswea_bash_command ```` block |
| ``timeout`` | ``The last command <command>…</command> timed out and has been killed.`` | mini-swe-agent, a failure |
| ``observation-json`` | ``{"returncode": 1, "output": "..."}`` (or ``output_head`` / ``output_tail``) | mini-swe-agent 2.x tool results |
| ``shell-json`` | ``{"output": "...", "metadata": {"exit_code": 1, ...}}`` | Codex's ``local_shell_call_output`` and older shell results |
| ``ran-this-command`` | ``I ran this command:\\n\\n{cmd}\\n\\nAnd got this output:\\n\\n{output}`` | aider's ``/run`` and auto-test |
| ``shell-trailer`` | ``Output: ...\\nExit Code: 1\\nProcess Group PGID: 3554``, maybe in ``<untrusted_context>`` | Gemini CLI's ``run_shell_command`` |
| ``open-file-trailer`` | ``...\\n(Open file: F)\\n(Current directory: D)\\nbash-$`` | SWE-agent observations, after a fenced command |
| ``observation`` | ``OBSERVATION:\\n...`` | SWE-agent 1.x observations |

The ``returncode`` framing stays whole for the compressors (``exit_status`` says it as one
marker line, and the others look inside it); the others hand over only the output inside.
Gemini CLI states an exit code only when it is not 0: with no ``Exit Code`` line the exit code
is unknown, and the output is not a failure.
"""

from __future__ import annotations

import re

from headroom_mitm.rules.framing_shape import Framing

__all__ = ["BUILTIN_FRAMINGS"]

_FENCED_SHELL = re.compile(r"```(?:bash|mswea_bash_command)\s*\n(?P<command>.*?)\n```", re.S)
"""mini-swe-agent's action: a ```bash block (1.x) or ```mswea_bash_command block (2.x text)."""
_FENCED_ANY = re.compile(r"```[^\n`]*\n(?P<command>.*?)\n?```", re.S)
"""SWE-agent's action: the last fenced block of the reply, whatever its language tag."""

BUILTIN_FRAMINGS: tuple[Framing, ...] = (
    Framing(
        "returncode",
        shape=re.compile(r"\A<returncode>(?P<exit_code>-?\d+)</returncode>\n"),
        command=_FENCED_SHELL,
    ),
    Framing(
        "timeout",
        shape=re.compile(
            r"\AThe last command <command>(?P<command>.*?)</command> timed out and has been killed\.\n"
            r"The output of the command was:\n ?<output>\n(?P<output>.*)\n</output>\n", re.S),
        is_error=True,
    ),
    Framing("observation-json", json_output=("output", "output_head", "output_tail"),
            json_exit_code=("returncode",)),
    Framing("shell-json", json_output=("output",), json_exit_code=("metadata", "exit_code")),
    Framing(
        "ran-this-command",
        shape=re.compile(r"\AI ran this command:\n\n(?P<command>.+?)\n\nAnd got this output:\n\n(?P<output>.*)\Z",
                         re.S),
    ),
    Framing(
        "shell-trailer",
        shape=re.compile(
            r"\A(?:Output too large\.[^\n]*\n)?(?:<untrusted_context>\n)?"
            r"(?:Command: [^\n]*\n(?:Directory: [^\n]*\n)?)?(?:Output|Stdout): (?P<output>.*?)"
            r"(?:\nStderr: .*?)?(?:\nError: [^\n]*)?(?:\nExit Code: (?:(?P<exit_code>-?\d+)|[^\n]*))?"
            r"(?:\nSignal: [^\n]*)?(?:\nBackground PIDs: [^\n]*)?\nProcess Group PGID: [^\n]*"
            r"(?:\n</untrusted_context>)?\n?\Z", re.S),
        tool="run_shell_command",
    ),
    Framing(
        "open-file-trailer",
        shape=re.compile(r"\A(?P<output>.*)\n\(Open file: [^\n]*\)\n\(Current directory: [^\n]*\)\nbash-\$\Z",
                         re.S),
        command=_FENCED_ANY,
    ),
    Framing("observation", shape=re.compile(r"\AOBSERVATION:\n(?P<output>.*)\Z", re.S), command=_FENCED_ANY),
)
