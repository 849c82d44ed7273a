"""The reference stores' row extensions (``add_rows``, ``iter_rows``) and row copies between them.

``python -m tracestore copy`` moves encoded rows as they are between stores that have
both extensions: a trace whose function no longer exists arrives intact, and the order
across modules is kept as well as each module's.  The memory store cannot be reached
from another process, so its copies run the CLI in this process (``tracestore.__main__.main``);
the file and server stores are copied by ``python -m tracestore copy`` in a subprocess.
"""

from __future__ import annotations

import collections
import io
import os
import pathlib
import sqlite3
import subprocess
import sys
import uuid
import warnings
from typing import Any, Dict, Iterable, Iterator, List, Tuple

import pytest
from monkeytype.db.sqlite import SQLiteStore as MonkeyTypeSQLiteStore
from monkeytype.encoding import CallTraceRow as MonkeyTypeCallTraceRow

import reference_stores.lmdb.scan
import reference_stores.postgres.store
import reference_stores.sqlite.scan
from tests.support.postgres import SchemaFactory, require_server, run_schemas
from tests.support.workload import production_workload
from tracestore import CallTraceRow, EncodeError
from tracestore.__main__ import main
from tracestore.copy import ALL
from tracestore.loading import open_store as _open_store

ROOT = pathlib.Path(__file__).resolve().parents[2]
STORES = ["memory", "sqlite", "lmdb", "postgres"]
PROCESS_STORES = ["sqlite", "lmdb", "postgres"]  # reachable from a subprocess
RowTuple = Tuple[Any, ...]

INT = '{"module": "builtins", "qualname": "int"}'
STR = '{"module": "builtins", "qualname": "str"}'
GHOST = CallTraceRow(  # its module, function and return type exist nowhere
    "tracestore_ghost_module_ts",
    "Vanished.method",
    '{"x": {"module": "tracestore_ghost_types_ts", "qualname": "Gone"}}',
    '{"module": "tracestore_ghost_types_ts", "qualname": "AlsoGone"}',
    None,
)


@pytest.fixture(scope="module")
def schemas() -> Iterator[SchemaFactory]:
    yield from run_schemas("rowcopy", required=False)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stream in chunks of a few rows, so that every test crosses many chunk boundaries."""
    for module in (reference_stores.sqlite.scan, reference_stores.lmdb.scan):
        monkeypatch.setattr(module, "BUFFERED_ROWS", 1)
        monkeypatch.setattr(module, "MIN_CHUNK", 3)
    monkeypatch.setattr(reference_stores.postgres.store, "STREAM_CHUNK", 3)


def open_store(spec: str) -> Any:
    """The store a spec names, untyped: the row extensions are not part of the store interface."""
    return _open_store(spec)


def connection_for(alias: str, directory: pathlib.Path, schemas: SchemaFactory, name: str = "store") -> str:
    if alias == "memory":
        return f"rowcopy-{uuid.uuid4().hex}"  # a named memory store: shared in this process
    if alias == "sqlite":
        return str(directory / f"{name}.sqlite3")
    if alias == "lmdb":
        return str(directory / f"{name}.lmdb")
    require_server()
    return schemas.connection_string()


def row(module: int, function: int, variant: int = 0) -> CallTraceRow:
    return CallTraceRow(
        f"tracestore_rowcopy_ts.mod{module}",
        f"Class{function % 3}.func{function}",
        f'{{"a": {INT}, "v{variant}": {STR}}}',
        INT if variant % 2 else None,
        STR if variant % 3 == 2 else None,
    )


def row_batches() -> List[List[CallTraceRow]]:
    """Rows of four modules, interleaved, with traces added again across and within batches."""
    first = [row(i % 4, i, i % 5) for i in range(40)]
    second = [first[3], row(1, 100), GHOST, first[0], first[17], row(3, 101, 2), first[3]]
    third = [row(2, 200, 1), GHOST, first[39], row(0, 201), first[8], first[8]]
    return [first, second, third]


def expected_order(batches: Iterable[Iterable[Any]]) -> List[RowTuple]:
    """``iter_rows`` of an ordered, distinct store after adding ``batches``: each row at its latest place."""
    latest: Dict[RowTuple, None] = {}
    for batch in batches:
        for item in batch:
            fields = fields_of(item if hasattr(item, "module") else CallTraceRow.from_trace(item))
            latest.pop(fields, None)
            latest[fields] = None
    return list(latest)


def fields_of(item: Any) -> RowTuple:
    return (item.module, item.qualname, item.arg_types, item.return_type, item.yield_type)


def all_rows(store: Any) -> List[RowTuple]:
    return [fields_of(item) for item in store.iter_rows()]


def by_module(rows: List[RowTuple]) -> Dict[str, List[RowTuple]]:
    """Each module's rows most recent first, as ``filter`` lists them, from rows oldest first."""
    modules: Dict[str, List[RowTuple]] = collections.defaultdict(list)
    for fields in reversed(rows):
        modules[fields[0]].append(fields)
    return dict(sorted(modules.items()))


def history(store: Any) -> Dict[str, List[RowTuple]]:
    return {
        module: [fields_of(thunk) for thunk in store.filter(module, None, ALL)]
        for module in sorted(store.list_modules())
    }


# -- iter_rows and add_rows of each store --------------------------------------------------


@pytest.mark.parametrize("alias", STORES)
def test_iter_rows_is_the_add_order_with_readded_rows_moved(
    alias: str, tmp_path: pathlib.Path, schemas: SchemaFactory
) -> None:
    store = open_store(f"{alias}={connection_for(alias, tmp_path, schemas)}")
    traces = production_workload(60, seed=3)
    rows = row_batches()
    calls: List[Tuple[str, List[Any]]] = [
        ("add_rows", rows[0]),
        ("add", traces[:40]),
        ("add_rows", rows[1]),
        ("add", [*traces[10:15], traces[0]]),  # traces stored before move to the newest place
        ("add_rows", rows[2]),
        ("add_rows", []),
    ]
    for method, batch in calls:
        getattr(store, method)(batch)
    expected = expected_order(batch for _, batch in calls)
    assert len(expected) < sum(len(batch) for _, batch in calls)  # some were re-added
    assert all_rows(store) == expected
    assert history(store) == by_module(expected)  # filter agrees, module by module
    assert all(type(item) is CallTraceRow for item in store.iter_rows())


@pytest.mark.parametrize("alias", STORES)
def test_add_rows_stores_text_as_is(alias: str, tmp_path: pathlib.Path, schemas: SchemaFactory) -> None:
    store = open_store(f"{alias}={connection_for(alias, tmp_path, schemas)}")
    odd = [
        CallTraceRow("mod\ud800x.é", "q\x00\x01y.\U0001f600", "not json \x00 \x01", "", "null"),
        CallTraceRow("", "", "", None, None),
        GHOST,
    ]
    store.add_rows(odd)
    assert all_rows(store) == [fields_of(item) for item in odd]
    assert history(store) == by_module([fields_of(item) for item in odd])


@pytest.mark.parametrize("alias", STORES)
def test_add_rows_takes_any_row_like_object(
    alias: str, tmp_path: pathlib.Path, schemas: SchemaFactory
) -> None:
    store = open_store(f"{alias}={connection_for(alias, tmp_path, schemas)}")
    RowLike = collections.namedtuple("RowLike", "module qualname arg_types return_type yield_type")

    class Text(str):
        pass

    given = [
        MonkeyTypeCallTraceRow(*fields_of(GHOST)),
        RowLike("m", "f", "{}", None, STR),
        CallTraceRow(Text("m"), Text("g"), Text("{}"), Text(INT), None),
    ]
    store.add_rows(iter(given))  # any iterable, read once
    assert all_rows(store) == [fields_of(item) for item in given]
    assert all(type(field) in (str, type(None)) for item in store.iter_rows() for field in fields_of(item))


class NoYieldType:
    module, qualname, arg_types, return_type = "m", "f", "{}", None


def bad_row(**fields: Any) -> CallTraceRow:
    """A ``CallTraceRow`` with ``fields`` in place of good ones (the class does not check its fields)."""
    good: Dict[str, Any] = {
        "module": "m",
        "qualname": "f",
        "arg_types": "{}",
        "return_type": None,
        "yield_type": None,
    }
    return CallTraceRow(**{**good, **fields})


BAD_ROWS = {
    "module-None": (bad_row(module=None), "field 'module' must be a str, not NoneType"),
    "qualname-int": (bad_row(qualname=1), "field 'qualname' must be a str, not int"),
    "arg_types-bytes": (bad_row(arg_types=b"{}"), "field 'arg_types' must be a str, not bytes"),
    "arg_types-None": (bad_row(arg_types=None), "field 'arg_types' must be a str, not NoneType"),
    "return_type-int": (bad_row(return_type=3), "field 'return_type' must be a str or None, not int"),
    "yield_type-list": (bad_row(yield_type=["x"]), "field 'yield_type' must be a str or None, not list"),
    "no-yield_type": (NoYieldType(), "row 2 (NoYieldType) has no field 'yield_type'"),
}


@pytest.mark.parametrize("alias", STORES)
@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_add_rows_with_a_bad_field_raises_and_stores_nothing(
    alias: str, case: str, tmp_path: pathlib.Path, schemas: SchemaFactory
) -> None:
    store = open_store(f"{alias}={connection_for(alias, tmp_path, schemas)}")
    before = row(0, 0)
    store.add_rows([before])
    bad, message = BAD_ROWS[case]
    with pytest.raises(EncodeError) as raised:
        store.add_rows([row(1, 1), before, bad, row(2, 2)])  # good rows before and after the bad one
    assert message in str(raised.value)
    assert str(raised.value).startswith("add_rows: row 2")
    assert all_rows(store) == [fields_of(before)]  # nothing of the failed call: no row moved or added
    assert store.list_modules() == [before.module]


def test_sqlite_refuses_a_lone_surrogate_in_json_text(tmp_path: pathlib.Path) -> None:
    store = open_store(f"sqlite={tmp_path / 'traces.sqlite3'}")
    with pytest.raises(EncodeError, match=r"row 1 .*field 'return_type' holds a lone surrogate"):
        store.add_rows([row(0, 0), CallTraceRow("m", "f", "{}", '"\ud800"', None)])
    assert all_rows(store) == []


# -- SQLite: the clock across modules, old files, rows MonkeyType wrote ---------------------------


def test_sqlite_keeps_the_order_across_modules_in_a_file_without_a_clock(tmp_path: pathlib.Path) -> None:
    """A file written before the store kept its clock (no meta row) continues past its newest tick."""
    path = tmp_path / "traces.sqlite3"
    store = open_store(f"sqlite={path}")
    batches = row_batches()
    store.add_rows(batches[0])
    with sqlite3.connect(path) as conn:
        deleted = conn.execute("DELETE FROM monkeytype_call_traces__ts_meta WHERE name = 'clock'").rowcount
    assert deleted == 1
    for batch in batches[1:]:
        store.add_rows(batch)
    assert all_rows(store) == expected_order(batches)
    assert history(store) == by_module(expected_order(batches))


def test_sqlite_iter_rows_lists_rows_monkeytype_wrote_since_the_last_add_last(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "traces.sqlite3"
    store = open_store(f"sqlite={path}")
    ours = production_workload(40, seed=5)
    store.add(ours)
    theirs = [ours[3], *production_workload(10, seed=6), ours[20]]  # two of ours again, in MonkeyType's rows
    with warnings.catch_warnings():  # its datetime adapter is deprecated on Python 3.12+
        warnings.simplefilter("ignore", DeprecationWarning)
        MonkeyTypeSQLiteStore.make_store(str(path)).add(theirs)  # type: ignore[arg-type]  # duck-typed traces
    expected = expected_order([ours, theirs])
    assert all_rows(store) == expected  # not folded in yet: read from the incoming table
    store.add([])
    store.add_rows([])  # adds nothing; the rows fold in at the next real write
    store.add_rows([row(0, 0)])
    assert all_rows(store) == [*expected, fields_of(row(0, 0))]


# -- copies between stores through the CLI ------------------------------------------------------


def fill(store: Any) -> List[RowTuple]:
    """Add the row batches (GHOST among them) with add_rows; the rows ``iter_rows`` must list."""
    batches = row_batches()
    for batch in batches:
        store.add_rows(batch)
    expected = expected_order(batches)
    assert all_rows(store) == expected  # the source is right, so the comparisons below mean something
    return expected


def summary(rows: List[RowTuple], dst_alias: str, again: bool = False) -> str:
    """The copy's summary line: a destination with a counting ``add_rows`` says how many were new."""
    modules = len({fields[0] for fields in rows})
    if dst_alias == "memory":  # its add_rows returns nothing
        outcome = f"{len(rows):,} added (the destination does not say how many were new)"
    else:
        new, there = (0, len(rows)) if again else (len(rows), 0)
        outcome = f"{new:,} new, {there:,} already there"
    return f"{len(rows):,} rows read from {modules} modules (rows as they are): {outcome}; 0 failed to decode"


def check_copied(dst: Any, expected: List[RowTuple]) -> None:
    assert all_rows(dst) == expected  # every row, in order across and within modules
    assert history(dst) == by_module(expected)
    (ghost,) = dst.filter(GHOST.module, None, ALL)
    assert fields_of(ghost) == fields_of(GHOST)  # the trace of a function that exists nowhere, intact


def run_copy_process(cwd: pathlib.Path, src: str, dst: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MT_DB_PATH", "TRACESTORE_STORE")}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [sys.executable, "-m", "tracestore", "copy", "--quiet", src, dst]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("dst_alias", PROCESS_STORES)
@pytest.mark.parametrize("src_alias", PROCESS_STORES)
def test_copy_command_moves_rows_between_stores(
    src_alias: str, dst_alias: str, tmp_path: pathlib.Path, schemas: SchemaFactory
) -> None:
    src_spec = f"{src_alias}={connection_for(src_alias, tmp_path, schemas, 'src')}"
    dst_spec = f"{dst_alias}={connection_for(dst_alias, tmp_path, schemas, 'dst')}"
    expected = fill(open_store(src_spec))
    done = run_copy_process(tmp_path, src_spec, dst_spec)
    assert done.returncode == 0, done.stderr
    assert summary(expected, dst_alias) in done.stderr
    check_copied(open_store(dst_spec), expected)
    again = run_copy_process(tmp_path, src_spec, dst_spec)
    assert again.returncode == 0, again.stderr
    assert summary(expected, dst_alias, again=True) in again.stderr  # the re-run, worded truthfully


@pytest.mark.parametrize(
    ("src_alias", "dst_alias"),
    [("memory", alias) for alias in STORES] + [(a, "memory") for a in PROCESS_STORES],
)
def test_copy_command_moves_rows_to_and_from_memory(
    src_alias: str, dst_alias: str, tmp_path: pathlib.Path, schemas: SchemaFactory
) -> None:
    src_spec = f"{src_alias}={connection_for(src_alias, tmp_path, schemas, 'src')}"
    dst_spec = f"{dst_alias}={connection_for(dst_alias, tmp_path, schemas, 'dst')}"
    src, dst = open_store(src_spec), open_store(dst_spec)  # named memory stores live while these do
    expected = fill(src)
    err = io.StringIO()
    assert main(["copy", "--quiet", src_spec, dst_spec], stderr=err) == 0, err.getvalue()
    assert summary(expected, dst_alias) in err.getvalue()
    check_copied(dst, expected)
    assert main(["copy", "--quiet", src_spec, dst_spec], stderr=err) == 0, err.getvalue()
    check_copied(dst, expected)  # again: no duplicates, nothing moved


def test_copy_onto_a_store_with_traces_makes_the_copied_rows_the_newest(tmp_path: pathlib.Path) -> None:
    src = open_store(f"sqlite={tmp_path / 'src.sqlite3'}")
    dst_spec = f"lmdb={tmp_path / 'dst.lmdb'}"
    dst = open_store(dst_spec)
    older = [row(3, 7, 2), row(0, 500), row(0, 8, 3), row(2, 501)]  # two of them are among the copied rows
    assert sum(fields_of(item) in expected_order(row_batches()) for item in older) == 2
    dst.add_rows(older)
    expected = fill(src)
    done = run_copy_process(tmp_path, f"sqlite={tmp_path / 'src.sqlite3'}", dst_spec)
    assert done.returncode == 0, done.stderr
    assert all_rows(dst) == expected_order([older, [CallTraceRow(*fields) for fields in expected]])
