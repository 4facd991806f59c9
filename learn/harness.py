"""The agent harness's own rejections: turns the harness refused or cut short, not a tool's error.

mini-swe-agent rejects a reply that does not hold exactly one bash block and drops an output
longer than its limit; both cost the agent a turn, and the harness says in its message what it
wants instead. Each kind is learnt as one rule, in the harness's own terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Rejection", "rejection_of", "REPLY_TOOL"]

# the tool name a rejected reply is imported under: no tool ran, the reply itself was refused
REPLY_TOOL = "reply"


@dataclass(frozen=True)
class Rejection:
    kind: str
    message: str
    """The harness's words, one line."""
    rule: str
    """What to do instead, as the harness asks for it."""


_FORMAT = re.compile(r"Please always provide EXACTLY ONE action in triple backticks")
_TOO_LONG = re.compile(r"The output of your last command was too long")
# "you can try use head, tail or sed to view ..." -> the programs the harness suggests
_SUGGESTED = re.compile(r"you can try (?:to )?use ([\w ,]+?) to view", re.I)


def rejection_of(output: str) -> Rejection | None:
    """The harness rejection an output is, if any (looked for near its start only)."""
    head = output[:600]
    if _FORMAT.search(head):
        return Rejection(
            "format",
            "Please always provide EXACTLY ONE action in triple backticks",
            "reply with exactly one ```bash block (one command, or commands joined with && or ||)",
        )
    if _TOO_LONG.search(head):
        suggested = _SUGGESTED.search(head)
        programs = [p for p in re.split(r"\s*(?:,|\bor\b|\band\b)\s*", suggested.group(1)) if p] if suggested else []
        shown = ", ".join(f"`{p}`" for p in programs) or "`head`, `tail` or `sed -n`"
        return Rejection(
            "too-long",
            "The output of your last command was too long",
            f"view part of a long file or output ({shown}, or a narrower `grep`) instead of all of it",
        )
    return None
