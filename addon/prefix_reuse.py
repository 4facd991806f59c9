"""The previous request of a conversation, reused: only the turns it does not repeat are parsed,
looked at, compressed, counted and written back.

Each request of a conversation repeats the bytes of the one before up to its new turn (up to the
turn before, for a client that moves its cache breakpoint). ``PrefixReuse`` keeps the last
request of each recent conversation and, for the next one, compares the two texts (a memory
compare): the turns inside the shared prefix keep their parsed objects, tool outputs, token
counts and, in cache mode, the reports, originals and rewritten bytes of the earlier request;
only what follows them goes through the parser, the wire format, the compressors, the token
counter and the splice.

This is the same work as the full path, not an approximation: in cache mode an output's new text
depends only on itself, its call, the rules and the outputs before it (``addon/pipeline.py``), so
whatever the earlier request decided for a repeated output, this one would decide again. The
conditions that could change it are checked, and any one that does not hold sends the body
through the full path: another rule set, mode, model or lossy setting; token mode, which looks
at later turns; outputs that a wire format found differently in the repeated turns. The tests
compare both paths byte for byte on every request of the real traces.

One instance per owner (the proxy addon, a ``headroom compress --jsonl`` run); its records are
never changed once kept, and the table of them is locked, so the proxy's rewrite workers may
share it.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence, TypeVar

from headroom_mitm.addon.budget import Deadline
from headroom_mitm.addon.conversation import _PREAMBLE_KEYS, body_tokens, turns as turns_of, visible_text
from headroom_mitm.addon.framing.outputs import is_text_call_id
from headroom_mitm.addon.indexed_body import IndexedBody, parse_continuing, parse_indexed, shared_prefix
from headroom_mitm.addon.pipeline import (
    KnownPrefix,
    Outcome,
    OutputReport,
    compress_body,
    lossy_start,
    retrieval_declared,
)
from headroom_mitm.addon.providers._splice import splice
from headroom_mitm.addon.retrieval import announced_at
from headroom_mitm.addon.tool_output import JsonPath, ToolOutput

__all__ = ["PrefixReuse", "Body"]

T = TypeVar("T")

_KEY_CHARS = 256
"""Earlier requests are looked up by the start of the text; the longest shared prefix wins."""
_PER_KEY = 8
_WINDOW = 4
"""Repeated turns a wire format reads again ahead of the new ones: a tool result's call is in
the turn before it. What it finds there must match what the earlier request found."""


@dataclass
class _Record:
    """One request of a conversation, as the next one may reuse it."""

    wire: str
    body: IndexedBody
    sent: str
    """The text sent upstream."""
    sent_turn_ends: tuple[int, ...]
    """Offset just after each turn in ``sent``."""
    framings: Any
    outputs: list[ToolOutput]
    turn_tokens: tuple[int, ...] | None
    """Each turn's tokens (None: not counted)."""
    preamble_tokens: dict[str, int]
    announced: int | None
    """The first turn that announces the retrieve tool (``retrieval.announced_at``)..."""
    announced_known: bool
    """... when it was searched for."""
    setting: tuple[Any, ...] | None = None
    """(rules, mode, lossy, model, lossy turn) the reports were made under; None: no reports."""
    reports: Sequence[OutputReport] = ()
    trail: Sequence[Any] = ()
    per_turn: dict[str, list[Any]] = field(default_factory=dict)
    """``PrefixReuse.per_turn``'s values, by name."""

    @property
    def weight(self) -> int:
        return len(self.body.text) + (0 if self.sent is self.body.text else len(self.sent))


@dataclass
class Body:
    """One request body on its way through ``PrefixReuse``."""

    text: str
    doc: Any
    indexed: IndexedBody | None = None
    earlier: _Record | None = None
    kept: int = 0
    """How many turns ``earlier`` had that this body repeats."""
    outputs: list[ToolOutput] | None = None
    known_outputs: int = 0
    """How many of ``outputs`` are ``earlier``'s own (the same objects)."""
    turn_tokens: tuple[int, ...] | None = None
    preamble_tokens: dict[str, int] = field(default_factory=dict)
    announced: int | None = None
    announced_known: bool = False
    record: _Record | None = None
    reused: bool = False
    """Whether the compress step started after the repeated outputs."""
    wire: str = ""
    per_turn: dict[str, list[Any]] = field(default_factory=dict)

    def read_as(self, wire: Any) -> None:
        """The body is in ``wire``'s format: an earlier request read in another is no help."""
        self.wire = getattr(wire, "name", "")
        if self.earlier is not None and self.earlier.wire != self.wire:
            self.earlier, self.kept = None, 0


class PrefixReuse:
    """The last request of recent conversations, each up to ``max_chars`` of text in all."""

    def __init__(self, max_conversations: int = 64, max_chars: int = 16_000_000) -> None:
        self._by_start: OrderedDict[str, list[_Record]] = OrderedDict()
        self._max_conversations = max_conversations
        self._max_chars = max_chars
        self._chars = 0
        self._count = 0
        self._lock = threading.Lock()
        self.reused_requests = 0
        """Bodies whose compress step started after an earlier request's outputs."""
        self.reused_turns = 0
        """Turns those bodies repeated, which nothing looked at again."""

    # ---- parse ---------------------------------------------------------------------------

    def parse(self, text: str) -> Body:
        """The body's JSON (as ``json.loads`` would give it; raises its ``ValueError`` for a
        text that is not JSON), with what an earlier request of its conversation knew."""
        earlier, shared = self._earlier(text)
        indexed: IndexedBody | None = None
        kept = 0
        if earlier is not None:
            continued = parse_continuing(text, earlier.body, shared)
            if continued is not None:
                indexed, kept = continued
        if indexed is None:
            earlier = None
            indexed = parse_indexed(text)
        if indexed is None or turns_of(indexed.doc) is not indexed.turns:
            return Body(text, json.loads(text))
        return Body(text, indexed.doc, indexed, earlier, kept)

    def _earlier(self, text: str) -> tuple[_Record | None, int]:
        best, best_shared = None, 0
        with self._lock:
            candidates = list(self._by_start.get(text[:_KEY_CHARS], ()))
        for record in candidates:
            shared = shared_prefix(text, record.body.text)
            if shared > best_shared:
                best, best_shared = record, shared
        return best, best_shared

    # ---- what the pipeline asks --------------------------------------------------------------

    def outputs(self, body: Body, wire: Any, framings: Any) -> list[ToolOutput]:
        """``wire.extract(body.doc, framings)``, reading only the new turns when it can."""
        if body.outputs is None:
            body.read_as(wire)
            body.outputs, body.known_outputs = self._outputs(body, wire, framings)
        return body.outputs

    def _outputs(self, body: Body, wire: Any, framings: Any) -> tuple[list[ToolOutput], int]:
        earlier, indexed = body.earlier, body.indexed
        if earlier is None or indexed is None or earlier.framings is not framings or not body.kept:
            return wire.extract(body.doc, framings), 0
        kept = body.kept
        turns = [output.turn for output in earlier.outputs]
        known = bisect_left(turns, kept)
        if turns != sorted(turns) or any(is_text_call_id(output.call_id) for output in earlier.outputs):
            return self._compared(body, wire, framings, earlier.outputs[:known])
        start = max(0, kept - _WINDOW)
        found = _shifted(wire.extract(_from_turn(body.doc, indexed, start), framings), indexed.key, start)
        if found is None:
            return self._compared(body, wire, framings, earlier.outputs[:known])
        again = [output for output in found if output.turn < kept]
        new = [output for output in found if output.turn >= kept]
        if (again != earlier.outputs[bisect_left(turns, start):known]
                or any(is_text_call_id(output.call_id) or (output.call_id and not output.tool_name)
                       for output in new)):
            return self._compared(body, wire, framings, earlier.outputs[:known])
        return earlier.outputs[:known] + new, known

    @staticmethod
    def _compared(body: Body, wire: Any, framings: Any, known: list[ToolOutput]) -> tuple[list[ToolOutput], int]:
        """Every output read again; the earlier ones stand when they are the same."""
        outputs = wire.extract(body.doc, framings)
        if outputs[:len(known)] == known:
            return known + outputs[len(known):], len(known)
        return outputs, 0

    def per_turn(self, body: Body, name: str, compute: Callable[[int, Any], T]) -> list[T] | None:
        """``compute(index, turn)`` for each turn of the body, the repeated turns' values taken
        from the earlier request (``compute`` must depend on the turn alone). None for a body
        whose turns are not known."""
        indexed, earlier = body.indexed, body.earlier
        if indexed is None:
            return None
        known: list[T] = earlier.per_turn.get(name, [])[:body.kept] if earlier is not None else []
        values = known + [compute(index, turn) for index, turn in enumerate(indexed.turns[len(known):], len(known))]
        body.per_turn[name] = values
        return values

    def body_tokens(self, body: Body, count_tokens: Callable[[str], int]) -> int:
        """``conversation.body_tokens``, counting only the new turns and a changed preamble."""
        indexed, earlier = body.indexed, body.earlier
        if indexed is None:
            return body_tokens(body.doc, count_tokens)
        kept = body.kept if earlier is not None and earlier.turn_tokens is not None else 0
        known = earlier.turn_tokens[:kept] if earlier is not None and earlier.turn_tokens is not None else ()
        body.turn_tokens = tuple(known) + tuple(count_tokens(visible_text(turn)) for turn in indexed.turns[kept:])
        spans = {name: (start, end) for name, _, start, end in indexed.after}
        earlier_spans = {name: (start, end) for name, _, start, end in earlier.body.after} if earlier else {}
        for key in _PREAMBLE_KEYS:
            if key not in body.doc:
                continue
            if earlier is not None and key in earlier.preamble_tokens and _same_value(
                    key, spans, earlier_spans, body.text, earlier.body.text):
                body.preamble_tokens[key] = earlier.preamble_tokens[key]
            else:
                body.preamble_tokens[key] = count_tokens(visible_text(body.doc[key]))
        return sum(body.turn_tokens) + sum(body.preamble_tokens.values())

    def compress(self, body: Body, wire: Any, rules: Any, mode: str, lossy: bool | None,
                 deadline: Deadline | None = None) -> Outcome:
        """``pipeline.compress_body`` of the body, picking up after the repeated outputs."""
        indexed = body.indexed
        if indexed is None or mode == "token":
            return compress_body(body.text, body.doc, wire, rules, mode, lossy, deadline=deadline)
        outputs = self.outputs(body, wire, rules.framings)
        if not all(output.path[:2] == (indexed.key, output.turn) for output in outputs):
            # an output outside its turn: the per-turn splice cannot write it; nothing to reuse later
            return compress_body(body.text, body.doc, wire, rules, mode, lossy, deadline=deadline)
        earlier = body.earlier
        lossy_from = self._lossy_from(body, wire, lossy)
        setting = (rules, mode, lossy, wire.model(body.doc) or "")
        kept, known = body.kept, body.known_outputs
        if (earlier is not None and known and earlier.setting is not None and earlier.setting[:4] == setting
                and _lossy_turn(earlier.setting[4], kept) == _lossy_turn(lossy_from, kept)):
            prefix = KnownPrefix(outputs, earlier.reports[:known], earlier.trail[:known],
                                 _Splicer(indexed, kept, earlier.sent, earlier.sent_turn_ends,
                                          earlier.sent is earlier.body.text), lossy_from)
        else:
            known, kept = 0, 0
            prefix = KnownPrefix(outputs, (), (), _Splicer(indexed, 0, "", (), True), lossy_from)
        outcome = compress_body(body.text, body.doc, wire, rules, mode, lossy, known=prefix, deadline=deadline)
        splicer = prefix.rewrite
        assert isinstance(splicer, _Splicer)
        body.reused = bool(known)
        self.reused_requests += body.reused
        self.reused_turns += kept if body.reused else 0
        if any(report.note == "write-back failed" for report in outcome.outputs):
            return outcome  # nothing worth reusing
        sent_ends = splicer.sent_turn_ends if outcome.text is not body.text else indexed.turn_ends
        if len(sent_ends) == len(indexed.turns):
            body.record = self._record(body, rules.framings, outcome.text, sent_ends)
            body.record.setting = setting + (lossy_from,)
            body.record.reports, body.record.trail = outcome.outputs, outcome.trail
        return outcome

    def _lossy_from(self, body: Body, wire: Any, lossy: bool | None) -> int | None:
        """``pipeline.lossy_start``, finding the announcement only among the new turns."""
        earlier, indexed = body.earlier, body.indexed
        if lossy is not None or earlier is None or indexed is None or not body.kept:
            return self._lossy_from_all(body, wire, lossy)
        if retrieval_declared(wire, body.doc):
            return 0
        if not earlier.announced_known:
            return self._lossy_from_all(body, wire, lossy)
        if earlier.announced is not None and earlier.announced < body.kept:
            body.announced = earlier.announced
        else:
            messages = getattr(wire, "messages", None)
            found = announced_at(messages(_from_turn(body.doc, indexed, body.kept))) if callable(messages) else None
            body.announced = None if found is None else found + body.kept
        body.announced_known = True
        return None if body.announced is None else body.announced + 1

    @staticmethod
    def _lossy_from_all(body: Body, wire: Any, lossy: bool | None) -> int | None:
        start = lossy_start(wire, body.doc, lossy)
        if lossy is None and start != 0:  # 0: declared, so the announcement was not searched for
            body.announced, body.announced_known = (None if start is None else start - 1), True
        return start

    # ---- keep it for the next request --------------------------------------------------------

    def remember(self, body: Body, framings: Any) -> None:
        """Keep what ``body`` taught for its conversation's next request."""
        record = body.record
        if record is None and body.indexed is not None and body.outputs is not None:
            record = self._record(body, framings, body.text, body.indexed.turn_ends)
        if record is None:
            return
        with self._lock:
            self._keep(body, record)

    def _keep(self, body: Body, record: _Record) -> None:
        key = body.text[:_KEY_CHARS]
        records = self._by_start.pop(key, [])
        if body.earlier is not None and body.earlier in records:
            records.remove(body.earlier)
            self._forget(body.earlier)
        records.insert(0, record)
        while len(records) > _PER_KEY:
            self._forget(records.pop())
        self._by_start[key] = records
        self._chars += record.weight
        self._count += 1
        while (self._chars > self._max_chars or self._count > self._max_conversations) and self._by_start:
            oldest_key, oldest = next(iter(self._by_start.items()))
            self._forget(oldest.pop())
            if not oldest:
                del self._by_start[oldest_key]

    def _record(self, body: Body, framings: Any, sent: str, sent_turn_ends: Sequence[int]) -> _Record:
        assert body.indexed is not None and body.outputs is not None
        return _Record(body.wire, body.indexed, sent, tuple(sent_turn_ends), framings, body.outputs,
                       body.turn_tokens, dict(body.preamble_tokens), body.announced, body.announced_known,
                       per_turn=body.per_turn)

    def _forget(self, record: _Record) -> None:
        self._chars -= record.weight
        self._count -= 1


def _from_turn(doc: dict[str, Any], indexed: IndexedBody, start: int) -> dict[str, Any]:
    """The body with its turns from ``start`` on only, for a wire format to read (it numbers
    them from 0: ``_shifted`` puts its findings back in place)."""
    window = dict(doc)
    window[indexed.key] = indexed.turns[start:]
    return window


def _shifted(outputs: list[ToolOutput], key: str, start: int) -> list[ToolOutput] | None:
    """Outputs read from ``_from_turn(..., start)``, as found in the whole body; None when one
    is not where a turn's output is (its path does not begin with its turn)."""
    if not start:
        return outputs if all(output.path[:2] == (key, output.turn) for output in outputs) else None
    shifted = []
    for output in outputs:
        if output.path[:2] != (key, output.turn):
            return None
        turn = output.turn + start
        shifted.append(dataclasses.replace(output, turn=turn, path=(key, turn) + output.path[2:]))
    return shifted


def _lossy_turn(lossy_from: int | None, kept: int) -> int:
    """Where lossy steps start, as far as the repeated turns (before ``kept``) can tell."""
    return kept if lossy_from is None else min(lossy_from, kept)


def _same_value(key: str, spans: Mapping[str, tuple[int, int]], earlier_spans: Mapping[str, tuple[int, int]],
                text: str, earlier_text: str) -> bool:
    """Whether a top-level value has the same text in both bodies (so the same parse)."""
    if key not in spans:  # ahead of the turns, in the shared prefix
        return key not in earlier_spans
    if key not in earlier_spans:
        return False
    start, end = spans[key]
    earlier_start, earlier_end = earlier_spans[key]
    return end - start == earlier_end - earlier_start and text[start:end] == earlier_text[earlier_start:earlier_end]


class _Splicer:
    """``splice`` for outputs in turns from ``kept`` on, one turn's text at a time, after the
    earlier request's sent text up to the end of turn ``kept - 1``. Notes where each turn ends
    in the text it returns."""

    def __init__(self, indexed: IndexedBody, kept: int, earlier_sent: str, earlier_ends: Sequence[int],
                 earlier_unchanged: bool) -> None:
        self.indexed, self.kept = indexed, kept
        self.earlier_sent, self.earlier_ends = earlier_sent, earlier_ends
        self.earlier_unchanged = earlier_unchanged
        """The earlier request was sent as it came."""
        self.sent_turn_ends: tuple[int, ...] = ()

    def __call__(self, raw: str, replacements: Mapping[JsonPath, str]) -> str:
        indexed, kept = self.indexed, self.kept
        by_turn: dict[int, dict[JsonPath, str]] = {}
        for path, new_text in replacements.items():
            turn = path[1]
            assert isinstance(turn, int) and turn >= kept and path[0] == indexed.key
            by_turn.setdefault(turn, {})[path[2:]] = new_text
        if kept and not self.earlier_unchanged:
            cursor = indexed.turn_ends[kept - 1]
            pieces = [self.earlier_sent[:self.earlier_ends[kept - 1]]]
            ends = list(self.earlier_ends[:kept])
            length = len(pieces[0])
        else:  # the repeated turns went out as they are in this text
            cursor = indexed.turn_ends[kept - 1] if kept else 0
            pieces, ends, length = [raw[:cursor]], list(indexed.turn_ends[:kept]), cursor
        if not by_turn and (self.earlier_unchanged or not kept):
            self.sent_turn_ends = indexed.turn_ends
            return raw
        for turn in range(kept, len(indexed.turns)):
            start, end = indexed.turn_starts[turn], indexed.turn_ends[turn]
            if turn in by_turn:
                new_turn = splice(raw[start:end], by_turn[turn])
                pieces += [raw[cursor:start], new_turn]
                length += start - cursor + len(new_turn)
                cursor = end
            ends.append(length + end - cursor)
        pieces.append(raw[cursor:])
        self.sent_turn_ends = tuple(ends)
        return "".join(pieces)
