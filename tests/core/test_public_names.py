"""Every public name the contract lists imports from where it says, with the promised shape."""

from __future__ import annotations

import importlib
import inspect
from typing import Iterable, List, Optional

import pytest

import tracestore
from tracestore import CallTrace, CallTraceRow, CallTraceStore, CallTraceThunk

PUBLIC = [
    ("tracestore", "CallTrace"),
    ("tracestore", "CallTraceThunk"),
    ("tracestore", "CallTraceStore"),
    ("tracestore", "CallTraceRow"),
    ("tracestore", "serialize_traces"),
    ("tracestore.encoding", "CallTraceRow"),
    ("tracestore.encoding", "serialize_traces"),
    ("tracestore.base", "CallTraceStore"),
    ("tracestore.base", "CallTraceThunk"),
    ("tracestore.trace", "CallTrace"),
    ("conformance", "CallTraceStoreTests"),
    ("reference_stores.memory", "InMemoryStore"),
    ("reference_stores.sqlite", "SQLiteStore"),
    ("reference_stores.lmdb", "LMDBStore"),
    ("reference_stores.postgres", "PostgresStore"),
]
STORES = [p for p in PUBLIC if p[0].startswith("reference_stores")]


@pytest.mark.parametrize(("module", "name"), PUBLIC, ids=[f"{m}.{n}" for m, n in PUBLIC])
def test_public_name_imports(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name)


@pytest.mark.parametrize(("module", "name"), STORES, ids=[n for _, n in STORES])
def test_reference_store_shape(module: str, name: str) -> None:
    store_class = getattr(importlib.import_module(module), name)
    assert issubclass(store_class, CallTraceStore)
    assert inspect.ismethod(store_class.make_store), "make_store must be a classmethod"
    assert store_class.ordered_results is True
    assert store_class.distinct_results is True
    assert "{directory}" in store_class.example_connection_string or "{unique}" in (
        store_class.example_connection_string
    )


def test_call_trace_fields_and_equality() -> None:
    def f() -> None: ...

    trace = CallTrace(f, {"a": int}, str, None)
    assert (trace.func, trace.arg_types, trace.return_type, trace.yield_type) == (f, {"a": int}, str, None)
    assert trace == CallTrace(f, {"a": int}, str)
    assert trace != CallTrace(f, {"a": int}, bytes)
    assert hash(trace) == hash(CallTrace(f, {"a": int}, str))


def test_call_trace_row_fields_and_equality() -> None:
    row = CallTraceRow("m", "q", "{}", None, "y")
    assert (row.module, row.qualname, row.arg_types, row.return_type, row.yield_type) == (
        "m",
        "q",
        "{}",
        None,
        "y",
    )
    assert row == CallTraceRow("m", "q", "{}", None, "y")
    assert row != CallTraceRow("m", "q", "{}", None, None)
    assert isinstance(row, CallTraceThunk)


class _Minimal(CallTraceStore):
    def add(self, traces: Iterable[object]) -> None: ...

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        return []


def test_store_defaults_raise_not_implemented_naming_the_class() -> None:
    with pytest.raises(NotImplementedError, match="_Minimal"):
        _Minimal.make_store("x")
    with pytest.raises(NotImplementedError, match="_Minimal"):
        _Minimal().list_modules()


def test_abstract_methods_are_abstract() -> None:
    assert CallTraceStore.__abstractmethods__ == {"add", "filter"}
    assert CallTraceThunk.__abstractmethods__ == {"to_trace"}


def test_every_error_shares_one_base() -> None:
    errors = [v for v in vars(tracestore.errors).values() if isinstance(v, type) and issubclass(v, Exception)]
    assert len(errors) >= 7
    assert all(issubclass(e, tracestore.TraceStoreError) for e in errors)
