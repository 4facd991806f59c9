"""A small thread-safe LRU map: the pipeline's memory of work already done."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

V = TypeVar("V")

_MISSING = object()


class LruMemo(Generic[V]):
    """At most ``max_entries`` values (and, with ``weigh``, at most ``max_weight`` in total);
    the least recently used goes first. Counts hits and misses."""

    def __init__(self, max_entries: int, max_weight: int | None = None,
                 weigh: Callable[[V], int] | None = None) -> None:
        self.max_entries = max_entries
        self.max_weight = max_weight
        self._weigh = weigh
        self._weight = 0
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._data.get(key, _MISSING)
            if value is _MISSING:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value  # type: ignore[return-value]

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            old = self._data.pop(key, _MISSING)
            if old is not _MISSING:
                self._weight -= self._weight_of(old)  # type: ignore[arg-type]
            self._data[key] = value
            self._weight += self._weight_of(value)
            while len(self._data) > self.max_entries or (
                self.max_weight is not None and self._weight > self.max_weight and len(self._data) > 1
            ):
                _, dropped = self._data.popitem(last=False)
                self._weight -= self._weight_of(dropped)

    def _weight_of(self, value: V) -> int:
        return self._weigh(value) if self._weigh else 0

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._weight = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)
