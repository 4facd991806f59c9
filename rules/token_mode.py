"""What ``token`` mode may retire from earlier turns, as the ``token_mode`` section says.

Token mode trades prompt-cache hits for tokens: it may replace an earlier output with a short
marker once later turns have made it stale, superseded or idle. This is the policy only; the
pipeline (``addon/token_mode.py``) applies it to a body.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from headroom_mitm.rules.match import compile_globs

DEFAULT_IGNORED_ARGUMENTS = ("description", "timeout", "block")
"""Arguments that say how to run a call, not what it asks: a command run again with another
``description`` or ``timeout`` still asks the same thing."""


@dataclass(frozen=True)
class RepeatedCalls:
    """An output of these tools is superseded when the same call is made again later: the later
    output shows the current state (a test run again, a task polled again)."""

    tools_re: re.Pattern[str] | None
    ignored_arguments: frozenset[str]

    def covers(self, tool_name: str) -> bool:
        return bool(self.tools_re and self.tools_re.match(tool_name or ""))

    def call_key(self, tool_name: str, arguments: Any, arguments_key: str) -> tuple[str, str]:
        """What two calls must share to ask the same thing: the tool and its arguments, less
        the ignored ones. Tool names ignore case, as everywhere in the rules.

        ``arguments_key`` is the arguments' canonical JSON the pipeline already made (sorted
        keys, no spaces); it is used as is unless an ignored argument has to come out first.
        """
        if isinstance(arguments, Mapping) and not self.ignored_arguments.isdisjoint(arguments):
            kept = {k: v for k, v in arguments.items() if k not in self.ignored_arguments}
            arguments_key = json.dumps(kept, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        return (tool_name or "").lower(), arguments_key


@dataclass(frozen=True)
class IdleOutputs:
    """An output is idle once it is ``min_age`` tool turns old and the agent's calls have not
    named its file, or any distinctive identifier it holds, for ``idle_turns`` tool turns.
    Applies to file reads and to the outputs of ``tools``."""

    min_age: int
    idle_turns: int
    tools_re: re.Pattern[str] | None
    after_change: bool = False
    """Idle only once the agent has written or edited a file since the output."""

    def covers(self, tool_name: str) -> bool:
        return bool(self.tools_re and self.tools_re.match(tool_name or ""))


@dataclass(frozen=True)
class TokenModePolicy:
    stale_reads: bool = True
    """Retire a file read superseded by the same read made later, or by a rewrite of the file."""
    edited_reads_min_age: int | None = None
    """Also retire a read followed by an edit of its file once this many tool turns old (None:
    never)."""
    repeated_calls: RepeatedCalls | None = None
    idle_outputs: IdleOutputs | None = None
    step_turns: int = 15
    """Earlier turns change only every this many tool turns, so the prompt cache holds between."""

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "TokenModePolicy":
        """From the merged ``token_mode`` section (already validated by the schema)."""
        repeated = settings.get("repeated_calls")
        idle = settings.get("idle_outputs")
        return cls(
            stale_reads=bool(settings.get("stale_reads", True)),
            edited_reads_min_age=settings.get("edited_reads_min_age"),
            repeated_calls=RepeatedCalls(
                compile_globs(repeated.get("tools")),
                frozenset(repeated.get("ignore_arguments", DEFAULT_IGNORED_ARGUMENTS)),
            ) if repeated else None,
            idle_outputs=IdleOutputs(
                int(idle["min_age"]), int(idle.get("idle_turns", 0)), compile_globs(idle.get("tools")),
                bool(idle.get("after_change", False)),
            ) if idle else None,
            step_turns=max(1, int(settings.get("step_turns", 15))),
        )
