"""``InMemoryStore``: a process-local store, the simplest correct one."""

from __future__ import annotations

import threading
import weakref
from typing import Any, ClassVar, Dict, Iterable, Iterator, List, Optional

from reference_stores.rows import checked_rows
from tracestore import CallTraceRow, CallTraceStore, CallTraceThunk, check_limit, serialize_traces

_PRIVATE_NAMES = ("", ":memory:")


class _Traces:
    """Every row in recency order (oldest first), and each module's rows in that order too."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: Dict[CallTraceRow, None] = {}
        self.by_module: Dict[str, Dict[CallTraceRow, None]] = {}


_NAMED: weakref.WeakValueDictionary[str, _Traces] = weakref.WeakValueDictionary()
_NAMED_LOCK = threading.Lock()


class InMemoryStore(CallTraceStore):
    """Distinct traces, most recent first, kept in this process's memory.

    Connection strings: ``""`` or ``":memory:"`` give a new private store; any other
    string names a store shared by every ``make_store`` call with that name while one
    of them is alive (so a "reopen" sees the same traces). Nothing outlives the process.
    """

    ordered_results = True
    distinct_results = True
    example_connection_string: ClassVar[str] = "{unique}"
    process_local: ClassVar[bool] = True  # nothing outlives the process: S10 is not checked

    def __init__(self, traces: Optional[_Traces] = None) -> None:
        self._traces = traces if traces is not None else _Traces()

    @classmethod
    def make_store(cls, connection_string: str) -> InMemoryStore:
        if not isinstance(connection_string, str):
            raise TypeError(f"connection_string must be a str, not {type(connection_string).__name__}")
        if connection_string in _PRIVATE_NAMES:
            return cls()
        with _NAMED_LOCK:
            traces = _NAMED.get(connection_string)
            if traces is None:
                traces = _Traces()
                _NAMED[connection_string] = traces
        return cls(traces)

    def add(self, traces: Iterable[Any]) -> None:
        self._store(list(serialize_traces(traces)))

    def add_rows(self, rows: Iterable[Any]) -> None:
        """Store encoded rows as they are, like ``add`` (``tracestore.copy.RowSink``)."""
        self._store(checked_rows(rows))

    def iter_rows(self) -> Iterator[CallTraceRow]:
        """Every stored row, oldest first across modules (``tracestore.copy.RowSource``)."""
        with self._traces.lock:
            rows = list(self._traces.rows)
        return iter(rows)

    def _store(self, rows: List[CallTraceRow]) -> None:
        with self._traces.lock:
            everything, by_module = self._traces.rows, self._traces.by_module
            for row in rows:
                recent = by_module.setdefault(row.module, {})
                recent.pop(row, None)  # a trace added again moves to the most recent place
                recent[row] = None
                everything.pop(row, None)
                everything[row] = None

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        check_limit(limit)
        prefix = qualname_prefix or ""
        with self._traces.lock:
            rows = list(self._traces.by_module.get(module, ()))
        found: List[CallTraceThunk] = []
        for row in reversed(rows):
            if len(found) >= limit:
                break
            if row.qualname.startswith(prefix):
                found.append(row)
        return found

    def list_modules(self) -> List[str]:
        with self._traces.lock:
            return [module for module, rows in self._traces.by_module.items() if rows]
