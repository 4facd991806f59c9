"""Which tool calls and originals the flow log already has, or has in hand, in this process.

A conversation resends every earlier tool call (and every original set aside for it) in each
request; queueing only what is new keeps a slow database from piling up copies. A key counts as
logged only once its transaction committed: until then it is *in flight*, and if its write is
given up it is released, so the next request that carries it queues it again. A ``#ref`` the
model was sent therefore resolves once the database takes writes again, as long as the
conversation goes on or the entry holding it is still kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field, replace

from headroom_mitm.addon.store.entries import FlowEntry, ToolCallEntry

__all__ = ["Claimed", "LoggedKeys", "call_key"]


def call_key(call: ToolCallEntry) -> tuple:
    """An in-process stand-in for the fingerprint: the log's own key is a sha256 of the output,
    too costly to take on the event loop for every call of every request; Python's string hash
    with the length is enough to tell this process's calls apart."""
    return (call.session_id, call.call_id or call.position, call.tool, len(call.output), hash(call.output))


@dataclass
class Claimed:
    """An entry cut down to what is new, with the keys it holds in flight."""

    entry: FlowEntry
    call_keys: list[Hashable] = field(default_factory=list)
    original_keys: list[Hashable] = field(default_factory=list)


class LoggedKeys:
    """Keys committed (the most recent ``capacity`` of them) and keys in flight. Thread-safe: the
    event loop claims, the writer thread commits or releases."""

    def __init__(self, capacity: int) -> None:
        self._capacity = max(1, capacity)
        self._committed: OrderedDict[Hashable, None] = OrderedDict()
        self._in_flight: set[Hashable] = set()
        self._given_up: set[Hashable] = set()
        self._lock = threading.Lock()

    def claim(self, entry: FlowEntry) -> Claimed:
        """``entry`` without the calls and originals already committed or in flight; the rest are
        now in flight, held by the returned claim."""
        calls: list[ToolCallEntry] = []
        originals: dict[str, str] = {}
        claimed = Claimed(entry=entry)
        with self._lock:
            for call in entry.tool_calls:
                key = ("call", call_key(call))
                if self._take(key):
                    calls.append(call)
                    claimed.call_keys.append(key)
            for digest, content in entry.originals.items():
                key = ("original", digest)
                if self._take(key):
                    originals[digest] = content
                    claimed.original_keys.append(key)
        if len(calls) != len(entry.tool_calls) or len(originals) != len(entry.originals):
            claimed.entry = replace(entry, tool_calls=calls, originals=originals)
        return claimed

    def committed(self, claims: Iterable[Claimed]) -> None:
        with self._lock:
            for key in _keys_of(claims):
                self._in_flight.discard(key)
                self._given_up.discard(key)
                self._committed[key] = None
                self._committed.move_to_end(key)
            while len(self._committed) > self._capacity:
                self._committed.popitem(last=False)

    def released(self, claims: Iterable[Claimed]) -> None:
        """The claims' writes were given up: a later entry carrying the same keys may take them."""
        with self._lock:
            for key in _keys_of(claims):
                self._in_flight.discard(key)
                self._given_up.add(key)

    def lost(self) -> tuple[int, int]:
        """(tool calls, originals) given up and not written since by a later entry."""
        with self._lock:
            calls = sum(1 for kind, _ in self._given_up if kind == "call")
            return calls, len(self._given_up) - calls

    def _take(self, key: Hashable) -> bool:
        if key in self._in_flight:
            return False
        if key in self._committed:
            self._committed.move_to_end(key)
            return False
        self._in_flight.add(key)
        return True


def _keys_of(claims: Iterable[Claimed]) -> Iterable[Hashable]:
    for claim in claims:
        yield from claim.call_keys
        yield from claim.original_keys
