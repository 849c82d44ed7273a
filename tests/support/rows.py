"""Small helpers shared by the reference stores' own tests: traces of named functions, rows."""

from __future__ import annotations

from typing import Any, Callable, List, Sequence

from tracestore import CallTrace, CallTraceRow, CallTraceThunk
from tracestore.encoding import RowTuple


def func_named(module: str, qualname: str) -> Callable[..., Any]:
    """A function that claims any module and qualname (its rows need not decode)."""

    def func() -> None:
        pass

    func.__module__ = module
    func.__qualname__ = qualname
    return func


def trace(module: str, qualname: str, arg: Any = int, ret: Any = None) -> CallTrace:
    """A trace of ``module.qualname`` taking ``x: arg`` and returning ``ret``."""
    return CallTrace(func_named(module, qualname), {"x": arg}, ret)


def rows(found: Sequence[CallTraceThunk]) -> List[CallTraceRow]:
    """``filter``'s answer, asserted to be rows."""
    kept = [row for row in found if isinstance(row, CallTraceRow)]
    assert len(kept) == len(found), f"not all rows: {found!r}"
    return kept


def tuples(found: Sequence[CallTraceThunk]) -> List[RowTuple]:
    """``filter``'s answer as row tuples."""
    return [row.as_tuple() for row in rows(found)]
