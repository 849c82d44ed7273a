"""A small bounded cache for encoded types, keyed by object identity."""

from __future__ import annotations

import sys
from typing import Dict, Generic, Hashable, NamedTuple, Optional, Tuple, TypeVar

V = TypeVar("V")


class CacheStats(NamedTuple):
    entries: int
    approx_bytes: int


class BoundedCache(Generic[V]):
    """A dict of at most ``maxsize`` entries, emptied when full.

    Keys may contain ``id()``s: each entry keeps the objects it was computed from
    alive (``keepalive``), so an id in a live key can never be reused by another
    object. Reads and writes are single dict operations, safe across threads.
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, not {maxsize}")
        self.maxsize = maxsize
        self._entries: Dict[Hashable, Tuple[object, V]] = {}

    def get(self, key: Hashable) -> Optional[V]:
        entry = self._entries.get(key)
        return None if entry is None else entry[1]

    def put(self, key: Hashable, keepalive: object, value: V) -> None:
        if len(self._entries) >= self.maxsize:
            self._entries.clear()
        self._entries[key] = (keepalive, value)

    def clear(self) -> None:
        self._entries.clear()

    def stats(self) -> CacheStats:
        """Entries held, and the bytes of keys and values (not of the kept-alive objects)."""
        entries = list(self._entries.items())
        size = sys.getsizeof(self._entries)
        for key, (_, value) in entries:
            size += _deep_size(key) + _deep_size(value) + sys.getsizeof((None, None))
        return CacheStats(len(entries), size)


def _deep_size(value: object) -> int:
    if isinstance(value, tuple):
        return sys.getsizeof(value) + sum(_deep_size(item) for item in value)
    return sys.getsizeof(value)
