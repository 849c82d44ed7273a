"""Faulty file-backed stores: durability (S10) and opening by connection string (S14)."""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any, ClassVar, List, Type

from tests.faulty_stores.baseline import BaselineStore, History
from tests.faulty_stores.jsonl import HEADER, JsonLinesStore, JsonLinesT
from tracestore import CallTraceRow


class BufferedUntilCloseStore(JsonLinesStore):
    """S10: ``add`` keeps rows in a buffer written only by ``close()``; a reopened store misses them."""

    breaks: ClassVar[str] = "S10"

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self._pending: List[Any] = []
        self._pending_lock = threading.Lock()

    def _append(self, rows: List[Any]) -> None:
        with self._pending_lock:
            self._pending.extend(rows)

    def _snapshot(self) -> List[CallTraceRow]:
        with self._pending_lock:
            pending = list(self._pending)
        return super()._snapshot() + pending

    def close(self) -> None:
        with self._pending_lock:
            rows, self._pending = self._pending, []
        super()._append(rows)


class ProcessMemoryStore(JsonLinesStore):
    """S10: takes a file path and creates the file, but keeps its rows in this process's memory,
    shared by every store opened on that path here; a new process opening the path finds none.
    It does not declare ``process_local = True``."""

    breaks: ClassVar[str] = "S10"
    _by_path: ClassVar[weakref.WeakValueDictionary[str, History]] = weakref.WeakValueDictionary()
    _by_path_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: str) -> None:
        super().__init__(path)
        with self._by_path_lock:
            history = self._by_path.get(os.path.abspath(path))
            if history is None:
                history = self._by_path[os.path.abspath(path)] = History()
        self._history = history

    def _append(self, rows: List[Any]) -> None:
        BaselineStore._append(self, rows)

    def _snapshot(self) -> List[CallTraceRow]:
        return BaselineStore._snapshot(self)


class TruncatesOnReopenStore(JsonLinesStore):
    """S10: opening an existing file starts it afresh (``open(path, "w")``), losing every stored trace."""

    breaks: ClassVar[str] = "S10"

    @classmethod
    def _create(cls, path: str) -> None:
        with open(path, "wb") as file:
            file.write(HEADER)


class VagueConfigErrorStore(JsonLinesStore):
    """S14: a bad connection string raises ``RuntimeError("cannot open the store")``: not which, nor why."""

    breaks: ClassVar[str] = "S14"

    @classmethod
    def make_store(cls: Type[JsonLinesT], connection_string: str) -> JsonLinesT:
        try:
            return super().make_store(connection_string)
        except Exception:
            raise RuntimeError("cannot open the store") from None


class HalfMadeStore(JsonLinesStore):
    """S14: creates its lock file ``<path>.lock`` before checking the path; a failed check leaves it."""

    breaks: ClassVar[str] = "S14"

    @classmethod
    def _validated_path(cls, connection_string: Any) -> str:
        if isinstance(connection_string, str) and connection_string:
            with open(connection_string + ".lock", "ab"):
                pass
        path = super()._validated_path(connection_string)
        return path


class ClobbersForeignFileStore(JsonLinesStore):
    """S14: a path naming an existing file that is not a trace file is accepted, and traces appended to it."""

    breaks: ClassVar[str] = "S14"

    @classmethod
    def _validated_path(cls, connection_string: Any) -> str:
        if isinstance(connection_string, str) and os.path.isfile(connection_string):
            return connection_string
        return super()._validated_path(connection_string)
