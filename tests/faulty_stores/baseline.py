"""``BaselineStore``: a correct store written as a pipeline of small steps.

Every faulty store subclasses it (or its file-backed sibling ``JsonLinesStore``)
and overrides exactly one step, so the kit's verdict on the faulty store is a
verdict on that one fault. The self-test checks that the baseline itself passes
every rule, so a failure of a faulty store cannot come from the scaffolding.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, ClassVar, FrozenSet, Iterable, List, Optional, Tuple, Type, TypeVar

from tracestore import CallTraceRow, CallTraceStore, CallTraceThunk, check_limit, serialize_traces

BaselineT = TypeVar("BaselineT", bound="BaselineStore")

_PRIVATE_NAMES = ("", ":memory:")


class History:
    """Every row ever added, oldest first (duplicates included), and the lock that guards it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: List[CallTraceRow] = []


_NAMED: weakref.WeakValueDictionary[Tuple[str, str], History] = weakref.WeakValueDictionary()
_NAMED_LOCK = threading.Lock()


class BaselineStore(CallTraceStore):
    """A correct in-memory store: distinct results, most recent first (S1-S15).

    ``make_store("")`` gives a private store; any other name is shared, within the
    process, by every store of the same class opened with that name while one is alive.
    """

    ordered_results: ClassVar[bool] = True
    distinct_results: ClassVar[bool] = True
    example_connection_string: ClassVar[str] = "{unique}"
    process_local: ClassVar[bool] = True  # its rows live in this process: S10 is not checked
    also_fails: ClassVar[FrozenSet[str]] = frozenset()  # the rules a faulty subclass fails beside `breaks`

    def __init__(self, history: Optional[History] = None) -> None:
        self._history = history if history is not None else History()

    @classmethod
    def make_store(cls: Type[BaselineT], connection_string: str) -> BaselineT:
        if not isinstance(connection_string, str):
            raise TypeError(f"connection_string must be a str, not {type(connection_string).__name__}")
        if connection_string in _PRIVATE_NAMES:
            return cls()
        key = (f"{cls.__module__}.{cls.__qualname__}", connection_string)
        with _NAMED_LOCK:
            history = _NAMED.get(key)
            if history is None:
                history = History()
                _NAMED[key] = history
        return cls(history)

    # -- add: serialize, then append --------------------------------------------------

    def add(self, traces: Iterable[Any]) -> None:
        self._append(self._serialize(traces))

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        """The rows to store, in order (E4, S7, S13)."""
        return list(serialize_traces(traces))

    def _append(self, rows: List[Any]) -> None:
        """Add the rows to the history, atomically (S11)."""
        with self._history.lock:
            self._history.rows.extend(rows)

    def _snapshot(self) -> List[CallTraceRow]:
        """Every stored row, oldest first."""
        with self._history.lock:
            return list(self._history.rows)

    # -- filter: match, choose, list ----------------------------------------------------

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        limit = self._check_limit(limit)
        prefix = qualname_prefix or ""
        newest_first = [
            row
            for row in reversed(self._snapshot())
            if self._module_matches(row.module, module) and self._prefix_matches(row.qualname, prefix)
        ]
        return self._listed(self._choose(newest_first, limit))

    def _check_limit(self, limit: int) -> int:
        """Validate the limit (S4)."""
        return check_limit(limit)

    def _module_matches(self, stored: str, wanted: str) -> bool:
        """Exact module equality (S2)."""
        return stored == wanted

    def _prefix_matches(self, qualname: str, prefix: str) -> bool:
        """Literal, case-sensitive prefix (S3)."""
        return qualname.startswith(prefix)

    def _choose(self, newest_first: List[CallTraceRow], limit: int) -> List[CallTraceRow]:
        """The ``limit`` most recent results, newest first (S4, S5)."""
        return self._results(newest_first)[:limit]

    def _results(self, newest_first: List[CallTraceRow]) -> List[CallTraceRow]:
        """Matching rows as results: each distinct row once, at its latest position (S6)."""
        if not self.distinct_results:
            return list(newest_first)
        return list(dict.fromkeys(newest_first))

    def _listed(self, chosen: List[CallTraceRow]) -> List[CallTraceThunk]:
        """The thunks returned, most recent first (S9, S15, E5)."""
        return list(chosen)

    # -- list_modules -----------------------------------------------------------------------

    def list_modules(self) -> List[str]:
        return list(dict.fromkeys(row.module for row in self._snapshot()))


class BaselineDuplicatesStore(BaselineStore):
    """The baseline with ``distinct_results = False``: every occurrence is a result (S6)."""

    distinct_results: ClassVar[bool] = False
