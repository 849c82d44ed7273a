"""Realistic faults of state kept outside the data (S1, S5, S12, S14): counters, caches, and
directories made before a connection string is checked."""

from __future__ import annotations

import fcntl
import json
import os
from typing import Any, ClassVar, Dict, FrozenSet, List, Optional, Tuple

from tests.faulty_stores.baseline import BaselineStore
from tests.faulty_stores.jsonl import HEADER, JsonLinesStore
from tracestore import CallTraceRow, CallTraceThunk


class CounterRestartsOnReopenStore(JsonLinesStore):
    """S5: each row is stamped from an in-process counter that starts at 0 whenever the store is
    opened, and recency is read from the stamps: after a reopen, new traces rank as the oldest."""

    # MySQL 5.7 InnoDB: "the auto-increment counter is stored in main memory, not on disk"
    # and is re-initialised on restart; a store that keeps its own sequence in memory and
    # does not re-read MAX(seq) on open hands out numbers already used.
    # https://dev.mysql.com/doc/refman/5.7/en/innodb-auto-increment-handling.html#innodb-auto-increment-initialization

    breaks: ClassVar[str] = "S5"
    also_fails: ClassVar[FrozenSet[str]] = frozenset()

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self._next = 0

    def _append(self, rows: List[Any]) -> None:
        if not rows:
            return
        with self._cache_lock:
            stamps = range(self._next, self._next + len(rows))
            self._next += len(rows)
        data = "".join(json.dumps([stamp, *row.as_tuple()]) + "\n" for stamp, row in zip(stamps, rows))
        with open(self.path, "ab") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            file.write(data.encode("ascii"))

    def _snapshot(self) -> List[CallTraceRow]:
        with open(self.path, "rb") as file:
            fcntl.flock(file, fcntl.LOCK_SH)
            lines = file.read().splitlines()
        stamped: List[Tuple[int, int, CallTraceRow]] = []
        for position, line in enumerate(lines):
            if line == HEADER.rstrip(b"\n") or not line:
                continue
            stamp, *fields = json.loads(line)
            stamped.append((stamp, position, CallTraceRow(*fields)))
        return [row for _, _, row in sorted(stamped, key=lambda item: (item[0], item[1]))]


class ListModulesCacheStore(BaselineStore):
    """S12: list_modules is computed once per store object and cached: modules added later are missing."""

    # Django: cached_property "is cached for the life of the instance" -- the pattern of a
    # store that memoises an expensive DISTINCT query and never invalidates it on add.
    # https://docs.djangoproject.com/en/stable/ref/utils/#django.utils.functional.cached_property

    breaks: ClassVar[str] = "S12"
    also_fails: ClassVar[FrozenSet[str]] = frozenset()

    _modules_cache: Optional[List[str]] = None

    def list_modules(self) -> List[str]:
        if self._modules_cache is None:
            self._modules_cache = super().list_modules()
        return list(self._modules_cache)


class FilterCacheStore(BaselineStore):
    """S1: filter answers are memoised by their arguments and never invalidated by add: a trace
    added after the same query was asked does not come back."""

    # functools.lru_cache: "the cache ... keyed by the arguments" -- it cannot know that the
    # store changed underneath (the documented caveat: use it only for pure functions).
    # https://docs.python.org/3/library/functools.html#functools.lru_cache

    breaks: ClassVar[str] = "S1"
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S4", "S5"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._answers: Dict[Tuple[str, Optional[str], int], List[CallTraceThunk]] = {}

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        key = (module, qualname_prefix, limit)
        if key not in self._answers:
            self._answers[key] = super().filter(module, qualname_prefix, limit)
        return list(self._answers[key])


class MakedirsFirstStore(JsonLinesStore):
    """S14: the file's missing parent directories are created before the connection string is
    checked; when the check then fails, the new directories stay behind."""

    # py-lmdb: lmdb.open(path, create=True) -- "create: If True, create the directory if it
    # does not exist" -- and os.makedirs(..., exist_ok=True) in a store's open() both make
    # directories before the store can tell the path is unusable.
    # https://lmdb.readthedocs.io/en/release/#environment-class
    # https://docs.python.org/3/library/os.html#os.makedirs

    breaks: ClassVar[str] = "S14"
    also_fails: ClassVar[FrozenSet[str]] = frozenset()

    @classmethod
    def _validated_path(cls, connection_string: Any) -> str:
        if isinstance(connection_string, str) and connection_string:
            parent = os.path.dirname(connection_string)
            if parent:
                os.makedirs(parent, exist_ok=True)
        return super()._validated_path(connection_string)
