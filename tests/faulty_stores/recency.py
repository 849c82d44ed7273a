"""Faulty stores that pick or list the wrong results: most recent (S5), distinct (S6), order (S15)."""

from __future__ import annotations

import time
from typing import Any, ClassVar, FrozenSet, List, Tuple

from tests.faulty_stores.baseline import BaselineStore
from tracestore import CallTraceRow, CallTraceThunk


def text_key(row: CallTraceRow) -> Tuple[str, ...]:
    """The row's fields as text, for sorting (``None`` sorts as ``""``)."""
    return tuple(field or "" for field in row.as_tuple())


class OldestWinsStore(BaselineStore):
    """S5: the ``limit`` OLDEST results are returned (listed most recent first, so S15 alone holds)."""

    breaks: ClassVar[str] = "S5"
    # S6 checks that a trace added again counts at its latest place, through the results a limit keeps.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S6"})

    def _choose(self, newest_first: List[CallTraceRow], limit: int) -> List[CallTraceRow]:
        oldest_first = self._results(newest_first)[::-1]
        return oldest_first[:limit][::-1]


class _StampedRow(CallTraceRow):
    """A row that remembers the whole second it was added in (equality stays by fields)."""

    __slots__ = ("stamp",)

    def __init__(self, row: CallTraceRow, stamp: int) -> None:
        super().__init__(*row.as_tuple())
        self.stamp = stamp


class SecondGranularStore(BaselineStore):
    """S5: recency is a timestamp rounded to the second; ties are broken by the row's text.

    This is MonkeyType's ``ORDER BY date(created_at)`` bug at a finer grain: within
    one second the "most recent" results are the alphabetically first ones.
    """

    breaks: ClassVar[str] = "S5"
    # Traces added within one second tie, so they are not listed most recent first either.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S15"})

    def _serialize(self, traces: Any) -> List[Any]:
        stamp = int(time.time())
        return [_StampedRow(row, stamp) for row in super()._serialize(traces)]

    def _snapshot(self) -> List[CallTraceRow]:
        rows = super()._snapshot()
        rows.sort(key=text_key, reverse=True)  # reversed again by filter: text ascending
        rows.sort(key=lambda row: row.stamp if isinstance(row, _StampedRow) else 0)
        return rows


class KeepsDuplicatesStore(BaselineStore):
    """S6: declares ``distinct_results`` but returns a trace once per time it was added."""

    breaks: ClassVar[str] = "S6"
    # Its repeated rows are extra results, so a count is not min(limit, distinct matches).
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S4"})

    def _results(self, newest_first: List[CallTraceRow]) -> List[CallTraceRow]:
        return list(newest_first)


class DedupKeepsOldestStore(BaselineStore):
    """S6: a trace added again keeps its FIRST position (``INSERT OR IGNORE``), not its latest."""

    breaks: ClassVar[str] = "S6"
    # A trace added again keeps its oldest place: the most recent results and their order are wrong.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S5", "S15"})

    def _results(self, newest_first: List[CallTraceRow]) -> List[CallTraceRow]:
        return list(dict.fromkeys(reversed(newest_first)))[::-1]


class DedupsDespiteDuplicatesStore(BaselineStore):
    """S6: declares ``distinct_results = False`` but merges duplicates anyway."""

    breaks: ClassVar[str] = "S6"
    # Declared distinct_results = False, it merges duplicates, so counts fall short of S4's.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S4"})
    distinct_results: ClassVar[bool] = False

    def _results(self, newest_first: List[CallTraceRow]) -> List[CallTraceRow]:
        return list(dict.fromkeys(newest_first))


class OldestFirstStore(BaselineStore):
    """S15: the right results, listed oldest first."""

    breaks: ClassVar[str] = "S15"

    def _listed(self, chosen: List[CallTraceRow]) -> List[CallTraceThunk]:
        return list(reversed(chosen))


class SortedByQualnameStore(BaselineStore):
    """S15: the right results, listed by qualname (as an index scan would give them)."""

    breaks: ClassVar[str] = "S15"

    def _listed(self, chosen: List[CallTraceRow]) -> List[CallTraceThunk]:
        by_text = sorted(chosen, key=text_key)
        return list(by_text)
