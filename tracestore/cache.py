"""A small bounded cache for encoded types, keyed by object identity."""

from __future__ import annotations

import sys
from typing import Callable, Dict, Generic, Hashable, NamedTuple, Optional, TypeVar

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
        self._values: Dict[Hashable, V] = {}
        self._keepalive: Dict[Hashable, object] = {}
        self.get: Callable[[Hashable], Optional[V]] = self._values.get
        """The cached value for ``key``, or ``None`` (a bound ``dict.get``: this is the hot path)."""

    def put(self, key: Hashable, keepalive: object, value: V) -> None:
        if len(self._values) >= self.maxsize:
            self.clear()
        self._keepalive[key] = keepalive
        self._values[key] = value

    def clear(self) -> None:
        self._values.clear()
        self._keepalive.clear()

    def stats(self) -> CacheStats:
        """Entries held, and the bytes of keys and values (not of the kept-alive objects)."""
        entries = list(self._values.items())
        size = sys.getsizeof(self._values) + sys.getsizeof(self._keepalive)
        for key, value in entries:
            size += _deep_size(key) + _deep_size(value)
        return CacheStats(len(entries), size)


def _deep_size(value: object) -> int:
    if isinstance(value, tuple):
        return sys.getsizeof(value) + sum(_deep_size(item) for item in value)
    return sys.getsizeof(value)
