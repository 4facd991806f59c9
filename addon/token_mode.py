"""Token mode: which earlier outputs later turns have made stale, superseded or idle.

Cache mode never looks past an output; token mode may, and retires an output it no longer
needs to send in full: a ``[headroom: stale ...]`` marker takes its place (its original goes to
the originals table under the marker's ref). What may be retired is the rule file's
``token_mode`` section (``rules/token_mode.py``):

- a file read the same read made later superseded, or a later rewrite of the file made stale;
- (``edited_reads_min_age``) a read followed by an edit of its file, once old enough;
- (``repeated_calls``) an output whose call was made again later: a test run, a ``git status``,
  a task polled again: the later output shows the current state;
- (``idle_outputs``) an old file read, or an old output of the listed tools, that the agent's
  calls had stopped naming: neither its file nor any distinctive identifier in it appeared in
  the arguments of the calls of the ``idle_turns`` tool turns before a checkpoint; with
  ``after_change``, only once the agent has written or edited a file since it, so an agent
  that reads to report (an exploration subagent) keeps what it read until it reports.

All of it is decided at checkpoints (``Window``), so the prompt cache holds between them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Iterator, Protocol, Sequence

from headroom_mitm.addon.memo import LruMemo
from headroom_mitm.addon.tool_output import ToolOutput
from headroom_mitm.rules.token_mode import TokenModePolicy

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
"""A word as both sides are cut into: identifiers, dotted names, file names."""
_HUMP = re.compile(r"[a-z][A-Z]")
_NAMES: LruMemo[frozenset[str]] = LruMemo(4096, max_weight=16_000_000, weigh=lambda names: 1 + len(names))


class OutputFacts(Protocol):
    """What the pipeline knows of each output (``addon.pipeline._Facts``)."""

    text: str
    sha: str
    arguments: Any
    arguments_key: str
    access: tuple[str, str] | None


@dataclass(frozen=True)
class Retirements:
    stale: dict[int, str]
    """Index of each output to retire -> why (the marker's detail)."""
    superseding: dict[int, str]
    """Index of each read that superseded an earlier one -> a note for ``rules explain``."""


@dataclass(frozen=True)
class Window:
    """What token mode looks at: the conversation up to its latest checkpoint.

    Changing an earlier output breaks the provider's cached prefix from there on, so token mode
    changes earlier turns only when a request crosses a checkpoint, every ``step`` tool turns,
    and between checkpoints each request repeats the bytes of the one before. Everything it
    decides is read from the tool turns before the latest checkpoint: ages count up to it, and
    only an output or call before it can retire or be retired. As that part of the
    conversation only grows, an output once retired stays retired.
    """

    positions: list[int]
    """Each output's tool turn, counted from 0 (outputs of one turn share it)."""
    checkpoint: int
    """How many tool turns lie before the latest checkpoint."""
    step: int
    ages: list[int]
    """Tool turns between each output and the checkpoint (0 for the ones after it)."""
    size: int
    """How many outputs lie before the checkpoint (a prefix of the body's outputs)."""


def window(outputs: Sequence[ToolOutput], step: int) -> Window:
    step = max(1, step)
    turns = sorted({output.turn for output in outputs})
    index_of = {turn: i for i, turn in enumerate(turns)}
    positions = [index_of[output.turn] for output in outputs]
    checkpoint = len(turns) - len(turns) % step
    return Window(positions, checkpoint, step,
                  ages=[max(0, checkpoint - 1 - position) for position in positions],
                  size=sum(1 for position in positions if position < checkpoint))


def retirements(outputs: Sequence[ToolOutput], facts: Sequence[OutputFacts], when: Window,
                policy: TokenModePolicy) -> Retirements:
    size, ages = when.size, when.ages
    outputs, facts = outputs[:size], facts[:size]
    stale, superseding = _stale_reads(facts, ages, policy)
    for index, why in _repeated_calls(outputs, facts, policy):
        stale.setdefault(index, why)
    for index, why in _idle_outputs(outputs, facts, when, policy, stale):
        stale.setdefault(index, why)
    return Retirements(stale, superseding)


def _stale_reads(facts: Sequence[OutputFacts], ages: list[int],
                 policy: TokenModePolicy) -> tuple[dict[int, str], dict[int, str]]:
    """A read is stale when the same read was made again later, or the file was rewritten whole
    later (the new content is in that call). A read followed by a partial edit still tells the
    model most of the file, so it is retired only once ``edited_reads_min_age`` turns old."""
    stale: dict[int, str] = {}
    superseding: dict[int, str] = {}
    if not policy.stale_reads and policy.edited_reads_min_age is None:
        return stale, superseding
    rewritten: set[str] = set()
    edited: set[str] = set()
    last_read: dict[tuple[str, str], int] = {}
    for index in range(len(facts) - 1, -1, -1):  # walk backwards: "later" is already seen
        access = facts[index].access
        if access is None:
            continue
        what, path = access
        if what == "write":
            rewritten.add(path)
            continue
        if what == "edit":
            edited.add(path)
            continue
        read_key = (path, facts[index].arguments_key)
        if policy.stale_reads and path in rewritten:
            stale[index] = f"read of {path} is stale: the file was rewritten later"
        elif policy.stale_reads and read_key in last_read:
            stale[index] = f"read of {path} superseded by a later read of it"
            superseding[last_read[read_key]] = "latest read of its file: earlier ones retired (token mode)"
        elif (path in edited and policy.edited_reads_min_age is not None
              and ages[index] >= policy.edited_reads_min_age):
            stale[index] = f"read of {path} is stale: the file was edited later"
        if read_key not in last_read:
            last_read[read_key] = index
    return stale, superseding


def _repeated_calls(outputs: Sequence[ToolOutput], facts: Sequence[OutputFacts],
                    policy: TokenModePolicy) -> Iterator[tuple[int, str]]:
    repeated = policy.repeated_calls
    if repeated is None:
        return
    next_call: dict[tuple[str, str], str] = {}
    for index in range(len(outputs) - 1, -1, -1):
        output = outputs[index]
        if not repeated.covers(output.tool_name):
            continue
        key = repeated.call_key(output.tool_name, output.arguments, facts[index].arguments_key)
        if key in next_call:
            # the next run, not the latest: the marker must not change when another run comes
            yield index, f"{output.tool_name} output superseded by the same call made later, in {next_call[key]}"
        next_call[key] = output.call_id or "a later turn"


def _idle_outputs(outputs: Sequence[ToolOutput], facts: Sequence[OutputFacts], when: Window,
                  policy: TokenModePolicy, already: dict[int, str]) -> Iterator[tuple[int, str]]:
    """An output is retired at the first checkpoint where it was ``min_age`` tool turns old and
    no call of the ``idle_turns`` turns before that checkpoint named it. Every past checkpoint
    is tried, not just the latest: an output stays retired when the agent names it again."""
    idle = policy.idle_outputs
    if idle is None:
        return
    ages = when.ages
    candidates = [index for index, output in enumerate(outputs)
                  if ages[index] >= idle.min_age and index not in already
                  and ((facts[index].access or ("",))[0] == "read" or idle.covers(output.tool_name))]
    if not candidates:
        return
    changes = ([when.positions[i] for i in range(len(outputs)) if (facts[i].access or ("",))[0] in ("write", "edit")]
               if idle.after_change else [])
    named_at: dict[str, list[int]] = {}  # word -> the tool turns whose calls named it
    for index in range(len(outputs)):
        for word in _argument_words(facts[index]):
            named_at.setdefault(word, []).append(when.positions[index])
    for index in candidates:
        born = when.positions[index]
        named = {turn for word in _names_of(facts[index]) for turn in named_at.get(word, ()) if turn > born}
        first = born + 1 + idle.min_age  # the earliest checkpoint at which it is old enough
        changed = next((turn for turn in changes if turn > born), None)
        if idle.after_change and changed is None:
            continue
        if changed is not None:
            first = max(first, changed + 1)  # idle only from the first checkpoint after the change
        for checkpoint in range(-(-first // when.step) * when.step, when.checkpoint + 1, when.step):
            if not any(checkpoint - idle.idle_turns <= turn < checkpoint for turn in named):
                access = facts[index].access
                what = f"read of {access[1]}" if access else f"{outputs[index].tool_name} output"
                yield index, f"{what} retired: old, and not named by a call lately"
                break


def _argument_words(facts: OutputFacts) -> frozenset[str]:
    """Every word of a call's arguments, read from their string values: a command's lines must
    not fuse into one word through JSON's ``\\n``."""
    found = _NAMES.get(("arguments", facts.arguments_key))
    if found is None:
        found = frozenset(_words("\n".join(_strings_in(facts.arguments))))
        _NAMES.put(("arguments", facts.arguments_key), found)
    return found


def _names_of(facts: OutputFacts) -> frozenset[str]:
    """What would show the agent still works with an output: its file's name, and the
    distinctive identifiers in it (dotted, snake_case or camelCase, 6 characters or more).
    Plain words prove nothing: every file has ``return`` and ``error`` in it."""
    found = _NAMES.get(("output", facts.sha, facts.access))
    if found is None:
        names = {word for word in _words(facts.text)
                 if len(word) >= 6 and ("_" in word or "." in word or _HUMP.search(word))}
        if facts.access:
            names.add(os.path.basename(facts.access[1].rstrip("/")))
        names.discard("")
        found = frozenset(names)
        _NAMES.put(("output", facts.sha, facts.access), found)
    return found


def _words(text: str) -> Iterator[str]:
    for word in _NAME.findall(text):
        word = word.rstrip(".-")
        if word:
            yield word


def _strings_in(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def clear_memo() -> None:
    _NAMES.clear()
