"""The MonkeyType adapter and config, in one process: traces, errors and MonkeyType's CLI over them."""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
from typing import Any, Dict, Iterable, Iterator, List, Optional

import pytest
from monkeytype.cli import main as monkeytype_main
from monkeytype.db.base import CallTraceStore as MonkeyTypeCallTraceStore
from monkeytype.encoding import CallTraceRow as MonkeyTypeCallTraceRow
from monkeytype.exceptions import InvalidTypeError as MonkeyTypeInvalidTypeError
from monkeytype.exceptions import MonkeyTypeError
from monkeytype.exceptions import NameLookupError as MonkeyTypeNameLookupError
from monkeytype.tracing import CallTrace as MonkeyTypeCallTrace

from reference_stores.memory import InMemoryStore
from tracestore import CallTrace, CallTraceRow, StoreConfigError
from tracestore.monkeytype import MonkeyTypeStoreAdapter, as_monkeytype_store
from tracestore.monkeytype_config import CONFIG, CONNECTION_VAR, STORE_VAR, store_spec_from_env

MODULE = __name__
NOT_A_FUNCTION = 42


def scale(value: int, factor: float) -> float:
    return value * factor


def numbers(count: int) -> Iterator[int]:
    yield from range(count)


class Box:
    def put(self, item: Dict[str, List[int]]) -> Optional[str]:
        return None


class RowStore:
    """A store whose filter returns the given rows as they are (for rows that add() cannot make)."""

    def __init__(self, rows: List[Any]) -> None:
        self.rows = rows

    def add(self, traces: Iterable[Any]) -> None:
        raise AssertionError("not used")

    def filter(self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000) -> List[Any]:
        return [r for r in self.rows if r.module == module][:limit]

    def list_modules(self) -> List[str]:
        return sorted({r.module for r in self.rows})


def row(qualname: str, module: str = MODULE, arg_types: str = "{}") -> CallTraceRow:
    return CallTraceRow(module, qualname, arg_types, '{"module": "builtins", "qualname": "int"}', None)


OPTIONAL_STR: Any = Optional[str]  # a typing special form, which MonkeyType's CallTrace annotates as type
MONKEYTYPE_TRACES = [
    MonkeyTypeCallTrace(scale, {"value": int, "factor": float}, float),
    MonkeyTypeCallTrace(numbers, {"count": int}, type(None), int),
    MonkeyTypeCallTrace(Box.put, {"self": Box, "item": Dict[str, List[int]]}, OPTIONAL_STR),
]


def test_importing_tracestore_and_its_cli_never_imports_monkeytype() -> None:
    code = (
        "import sys, tracestore, tracestore.loading, tracestore.copy, tracestore.__main__;"
        "sys.exit('monkeytype' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_adapter_is_a_monkeytype_store_and_adapting_twice_is_a_no_op() -> None:
    adapter = as_monkeytype_store(InMemoryStore())
    assert isinstance(adapter, MonkeyTypeCallTraceStore)
    assert as_monkeytype_store(adapter) is adapter


def test_monkeytype_traces_round_trip_as_monkeytype_traces() -> None:
    store = InMemoryStore()
    adapter = as_monkeytype_store(store)
    adapter.add(MONKEYTYPE_TRACES)
    decoded = [thunk.to_trace() for thunk in adapter.filter(MODULE)]
    assert all(type(trace) is MonkeyTypeCallTrace for trace in decoded)
    # MonkeyType's own __eq__ (same class, equal __dict__), most recent first
    assert decoded == list(reversed(MONKEYTYPE_TRACES))
    # the stored rows are exactly what MonkeyType's encoder writes (E3)
    expected_rows = [MonkeyTypeCallTraceRow.from_trace(t) for t in reversed(MONKEYTYPE_TRACES)]
    assert [CallTraceRow.from_trace(t) for t in decoded] == expected_rows
    assert adapter.list_modules() == store.list_modules() == [MODULE]


def test_filter_passes_prefix_and_limit_through() -> None:
    adapter = as_monkeytype_store(InMemoryStore())
    adapter.add(MONKEYTYPE_TRACES)
    assert [t.to_trace().func for t in adapter.filter(MODULE, "Box.")] == [Box.put]
    assert [t.to_trace().func for t in adapter.filter(MODULE, None, 1)] == [Box.put]
    assert adapter.filter(MODULE, None, 0) == []
    with pytest.raises(ValueError):
        adapter.filter(MODULE, None, -1)


def test_a_tracestore_trace_becomes_a_monkeytype_trace() -> None:
    store = InMemoryStore()
    store.add([CallTrace(scale, {"value": int, "factor": float}, float)])
    (thunk,) = as_monkeytype_store(store).filter(MODULE)
    assert thunk.to_trace() == MONKEYTYPE_TRACES[0]


@pytest.mark.parametrize(
    ("bad_row", "error", "message"),
    [
        (row("deleted_function"), MonkeyTypeNameLookupError, "deleted_function"),
        (row("f", module="no_such_module_for_tracestore"), MonkeyTypeNameLookupError, "no_such_module"),
        (row("NOT_A_FUNCTION"), MonkeyTypeInvalidTypeError, "NOT_A_FUNCTION"),
        (
            row("scale", arg_types='{"x": {"module": "builtins", "qualname": "len"}}'),
            MonkeyTypeInvalidTypeError,
            "len",
        ),
        (row("scale", arg_types="{not json"), MonkeyTypeError, "JSON"),
    ],
)
def test_decode_errors_become_the_matching_monkeytype_error(
    bad_row: CallTraceRow, error: type, message: str
) -> None:
    good = CallTraceRow.from_trace(MONKEYTYPE_TRACES[0])
    thunks = as_monkeytype_store(RowStore([bad_row, good])).filter(bad_row.module) + as_monkeytype_store(
        RowStore([good])
    ).filter(MODULE)
    with pytest.raises(error, match=message) as raised:
        thunks[0].to_trace()
    assert type(raised.value) is error
    assert thunks[-1].to_trace() == MONKEYTYPE_TRACES[0]  # one bad row spoils nothing else (S9)


def test_other_exceptions_are_not_disguised() -> None:
    class Broken:
        module = MODULE

        def to_trace(self) -> Any:
            raise RuntimeError("a bug in the store")

    (thunk,) = as_monkeytype_store(RowStore([Broken()])).filter(MODULE)
    with pytest.raises(RuntimeError, match="a bug in the store"):
        thunk.to_trace()


def test_make_store_opens_a_spec() -> None:
    name = f"adapter-{uuid.uuid4().hex}"
    shared = InMemoryStore.make_store(name)
    adapter = MonkeyTypeStoreAdapter.make_store(f"memory={name}")
    adapter.add(MONKEYTYPE_TRACES[:1])
    assert [r.to_trace() for r in shared.filter(MODULE)] == MONKEYTYPE_TRACES[:1]
    with pytest.raises(StoreConfigError, match="no_such_module"):
        MonkeyTypeStoreAdapter.make_store("no_such_module:Store=x")


# -- the config --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "spec"),
    [
        ({}, "sqlite=monkeytype.sqlite3"),
        ({"MT_DB_PATH": "/x/mt.db"}, "sqlite=/x/mt.db"),
        ({STORE_VAR: "sqlite", CONNECTION_VAR: "a.db", "MT_DB_PATH": "/x/mt.db"}, "sqlite=a.db"),
        ({STORE_VAR: "lmdb"}, "lmdb=monkeytype.lmdb"),
        ({STORE_VAR: "memory"}, "memory="),
        ({STORE_VAR: "pkg.mod:Store", CONNECTION_VAR: ""}, "pkg.mod:Store="),
        ({STORE_VAR: "postgres", CONNECTION_VAR: "postgresql://h/db?a=b"}, "postgres=postgresql://h/db?a=b"),
    ],
)
def test_store_spec_from_env(env: Dict[str, str], spec: str) -> None:
    assert store_spec_from_env(env) == spec


@pytest.mark.parametrize("store", ["postgres", "pkg.mod:Store"])
def test_store_without_a_default_connection_needs_one(store: str) -> None:
    with pytest.raises(StoreConfigError, match=CONNECTION_VAR):
        store_spec_from_env({STORE_VAR: store})


def test_config_opens_the_store_once_per_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STORE_VAR, "memory")
    monkeypatch.setenv(CONNECTION_VAR, f"config-{uuid.uuid4().hex}")
    first = CONFIG.trace_store()
    assert isinstance(first, MonkeyTypeStoreAdapter) and isinstance(first.store, InMemoryStore)
    assert CONFIG.trace_store() is first
    monkeypatch.setenv(CONNECTION_VAR, f"config-{uuid.uuid4().hex}")
    assert CONFIG.trace_store() is not first


def test_config_names_a_bad_store_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STORE_VAR, "no_such_module_for_tracestore:Store")
    monkeypatch.setenv(CONNECTION_VAR, "x")
    with pytest.raises(StoreConfigError, match="module 'no_such_module_for_tracestore' not found"):
        CONFIG.trace_store()


# -- MonkeyType's CLI over the adapter, in this process ------------------------------


def run_monkeytype(*argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    assert monkeytype_main(["-c", "tracestore.monkeytype_config:CONFIG", *argv], out, err) == 0
    return out.getvalue() + err.getvalue()


_PLANTED: Dict[str, List[Any]] = {}


class PlantedStore(RowStore):
    """A user store (no base class at all) over rows planted by the test, including bad ones."""

    @classmethod
    def make_store(cls, connection_string: str) -> PlantedStore:
        return cls(_PLANTED[connection_string])


def test_monkeytype_stub_counts_undecodable_traces(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"cli-{uuid.uuid4().hex}"
    good = [CallTraceRow.from_trace(t) for t in MONKEYTYPE_TRACES]
    _PLANTED[name] = [row("deleted_function"), *good, row("NOT_A_FUNCTION")]
    monkeypatch.setenv(STORE_VAR, f"{MODULE}:PlantedStore")
    monkeypatch.setenv(CONNECTION_VAR, name)
    output = run_monkeytype("stub", "--ignore-existing-annotations", MODULE)
    assert "def scale(value: int, factor: float) -> float: ..." in output
    assert "def numbers(count: int) -> Iterator[int]: ..." in output
    assert "def put(self, item: Dict[str, List[int]]) -> Optional[str]: ..." in output
    assert "2 traces failed to decode; use -v for details" in output
    verbose = run_monkeytype("-v", "stub", MODULE)
    assert f"WARNING: Failed decoding trace: Module '{MODULE}' has no attribute 'deleted_function'" in verbose
    assert run_monkeytype("list-modules").split() == [MODULE]
