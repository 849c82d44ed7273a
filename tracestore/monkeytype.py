"""Hand any tracestore store to MonkeyType: ``as_monkeytype_store(store)``.

The only tracestore module that imports MonkeyType (an optional dependency); importing
``tracestore`` never imports this module.  The adapter passes MonkeyType's traces
straight to the store's ``add`` (``serialize_traces`` reads any trace-like object),
and its thunks turn what the store decodes into MonkeyType's own ``CallTrace``.  A
``tracestore.DecodeError`` becomes the matching ``MonkeyTypeError`` subclass, so
``monkeytype stub`` and ``apply`` count the trace as "failed to decode" (E5, S9)
instead of crashing.
"""

from __future__ import annotations

from typing import Any, Iterable, List, Optional

from monkeytype.db.base import CallTraceStore as MonkeyTypeCallTraceStore
from monkeytype.db.base import CallTraceThunk as MonkeyTypeCallTraceThunk
from monkeytype.exceptions import InvalidTypeError as MonkeyTypeInvalidTypeError
from monkeytype.exceptions import MonkeyTypeError
from monkeytype.exceptions import NameLookupError as MonkeyTypeNameLookupError
from monkeytype.tracing import CallTrace as MonkeyTypeCallTrace

from tracestore.errors import DecodeError, InvalidTypeError, NameLookupError
from tracestore.loading import StoreLike, ThunkLike, open_store

__all__ = ["MonkeyTypeStoreAdapter", "as_monkeytype_store", "to_monkeytype_error", "to_monkeytype_trace"]


def as_monkeytype_store(store: StoreLike) -> MonkeyTypeCallTraceStore:
    """``store`` as a ``monkeytype.db.base.CallTraceStore`` (an adapter is returned as it is)."""
    if isinstance(store, MonkeyTypeStoreAdapter):
        return store
    return MonkeyTypeStoreAdapter(store)


class MonkeyTypeStoreAdapter(MonkeyTypeCallTraceStore):
    """A MonkeyType ``CallTraceStore`` that keeps its traces in a tracestore store.

    ``make_store(spec)`` opens the store a spec names (``"sqlite=monkeytype.sqlite3"``,
    ``"pkg.mod:Class=CONNECTION"``; see ``tracestore.loading``).
    """

    def __init__(self, store: StoreLike) -> None:
        self.store = store

    @classmethod
    def make_store(cls, connection_string: str) -> MonkeyTypeStoreAdapter:
        return cls(open_store(connection_string))

    def add(self, traces: Iterable[MonkeyTypeCallTrace]) -> None:
        self.store.add(traces)

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[MonkeyTypeCallTraceThunk]:
        return [MonkeyTypeThunk(thunk) for thunk in self.store.filter(module, qualname_prefix, limit)]

    def list_modules(self) -> List[str]:
        return self.store.list_modules()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.store!r})"


class MonkeyTypeThunk(MonkeyTypeCallTraceThunk):
    """A store's thunk that decodes to MonkeyType's ``CallTrace`` and raises its errors."""

    __slots__ = ("thunk",)

    def __init__(self, thunk: ThunkLike) -> None:
        self.thunk = thunk

    def to_trace(self) -> MonkeyTypeCallTrace:
        try:
            trace = self.thunk.to_trace()
        except DecodeError as exc:
            raise to_monkeytype_error(exc) from exc
        return to_monkeytype_trace(trace)


def to_monkeytype_trace(trace: Any) -> MonkeyTypeCallTrace:
    """A MonkeyType ``CallTrace`` with the fields of ``trace`` (``trace`` itself if it is one)."""
    if isinstance(trace, MonkeyTypeCallTrace):
        return trace
    return MonkeyTypeCallTrace(trace.func, trace.arg_types, trace.return_type, trace.yield_type)


def to_monkeytype_error(error: DecodeError) -> MonkeyTypeError:
    """The ``MonkeyTypeError`` that MonkeyType's own decoder raises for the same failure."""
    if isinstance(error, NameLookupError):
        return MonkeyTypeNameLookupError(str(error))
    if isinstance(error, InvalidTypeError):
        return MonkeyTypeInvalidTypeError(str(error))
    return MonkeyTypeError(str(error))
