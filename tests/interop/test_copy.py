"""``python -m tracestore copy``: store specs, the copy itself, its CLI, and files MonkeyType wrote."""

from __future__ import annotations

import hashlib
import io
import os
import pathlib
import subprocess
import sys
import uuid
import warnings
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import pytest
from monkeytype.db.base import CallTraceStore as MonkeyTypeCallTraceStore
from monkeytype.db.sqlite import SQLiteStore as MonkeyTypeSQLiteStore

from reference_stores.memory import InMemoryStore
from tests.interop.test_interop_e2e import (
    delete_retired_function,
    monkeytype,
    monkeytype_backend,
    sample_copy,
)
from tests.support import mysql
from tests.support.postgres import SchemaFactory, require_server, run_schemas
from tests.support.redis import PrefixFactory, run_prefixes
from tests.support.redis import require_server as require_redis
from tests.support.workload import production_workload
from tracestore import CallTraceRow, CallTraceStore, CallTraceThunk, DecodeError, StoreConfigError
from tracestore.__main__ import main
from tracestore.copy import ALL, CopyReport, RowDecoder, copy_notes, copy_traces, open_source
from tracestore.loading import STORE_ALIASES, load_store_class, open_store, parse_store_spec

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULE = __name__
History = Dict[str, List[Tuple[Any, ...]]]


def sha1(path: pathlib.Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def history(store: Any) -> History:
    """Every module's rows, as the store lists them (most recent first, for ordered stores)."""
    return {
        module: [_fields(thunk) for thunk in store.filter(module, None, ALL)]
        for module in sorted(store.list_modules())
    }


def _fields(thunk: Any) -> Tuple[Any, ...]:
    return (thunk.module, thunk.qualname, thunk.arg_types, thunk.return_type, thunk.yield_type)


def expected_history(batches: Iterable[Iterable[Any]]) -> History:
    """What an ordered, distinct store lists after adding ``batches`` in order (S6, S15)."""
    latest: Dict[str, Dict[Tuple[Any, ...], None]] = {}
    for batch in batches:
        for trace in batch:
            fields = CallTraceRow.from_trace(trace).as_tuple()
            rows = latest.setdefault(fields[0], {})
            rows.pop(fields, None)
            rows[fields] = None
    return {module: list(reversed(rows)) for module, rows in sorted(latest.items())}


def workload_batches(seed: int = 0) -> List[List[Any]]:
    traces = production_workload(3000, seed=seed)
    return [traces[i : i + 700] for i in range(0, len(traces), 700)]


class TracesOnlyStore(CallTraceStore):
    """An in-memory store with the store interface only: no ``iter_rows``, no ``add_rows``.

    The reference stores have both extensions; this one takes the copy down its other
    path: module by module through ``filter``, decoding every trace for ``add``.
    """

    ordered_results = True
    distinct_results = True

    def __init__(self, inner: Optional[InMemoryStore] = None) -> None:
        self.inner = InMemoryStore() if inner is None else inner

    @classmethod
    def make_store(cls, connection_string: str) -> TracesOnlyStore:
        return cls(InMemoryStore.make_store(connection_string))  # a name is shared, as for memory=

    def add(self, traces: Iterable[Any]) -> None:
        self.inner.add(traces)

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        return self.inner.filter(module, qualname_prefix, limit)

    def list_modules(self) -> List[str]:
        return self.inner.list_modules()


def filled_memory_store(batches: List[List[Any]]) -> TracesOnlyStore:
    store = TracesOnlyStore()
    for batch in batches:
        store.add(batch)
    return store


def missing_row(qualname: str) -> CallTraceRow:
    return CallTraceRow(MODULE, qualname, "{}", '{"module": "builtins", "qualname": "int"}', None)


# -- store specs (tracestore.loading) -----------------------------------------------


class RecordingStore(InMemoryStore):
    """Remembers the connection string it was opened with."""

    connection_string = ""

    @classmethod
    def make_store(cls, connection_string: str) -> RecordingStore:
        if connection_string == "refuse":
            raise StoreConfigError("refused on purpose")
        store = cls()
        store.connection_string = connection_string
        return store


class NotAStore:
    """A class without the store methods."""


def not_a_class() -> None:
    """A function, not a class."""


def test_aliases_name_the_reference_stores() -> None:
    assert load_store_class("memory") is InMemoryStore
    assert set(STORE_ALIASES) == {"memory", "sqlite", "lmdb", "postgres", "mysql", "redis", "monkeytype"}
    assert all(path.startswith("reference_stores.") for path in STORE_ALIASES.values())


def test_a_class_path_may_be_dotted() -> None:
    assert load_store_class(f"{MODULE}:RecordingStore") is RecordingStore
    assert load_store_class(f"{MODULE}:TestSpecErrors.Nested") is TestSpecErrors.Nested


class TestSpecErrors:
    class Nested(InMemoryStore):
        pass

    @pytest.mark.parametrize(
        ("path", "message"),
        [
            ("no_colon", "'no_colon' is not a store class: expected pkg.module:StoreClass"),
            ("no_such_package_ts.mod:Store", "module 'no_such_package_ts' not found"),
            ("tests.no_such_module_ts:Store", "module 'tests.no_such_module_ts' not found"),
            (f"{MODULE}:Missing", f"module '{MODULE}' has no attribute 'Missing'"),
            (f"{MODULE}:TestSpecErrors.Gone", f"module '{MODULE}' has no attribute 'TestSpecErrors.Gone'"),
            (f"{MODULE}:not_a_class", "is not a store class: it is a function, not a class"),
            (f"{MODULE}:NotAStore", "is not a store class: it has no make_store, add, filter"),
        ],
    )
    def test_load_store_class_says_what_failed(self, path: str, message: str) -> None:
        with pytest.raises(StoreConfigError) as raised:
            load_store_class(path)
        assert message in str(raised.value)

    def test_a_module_that_fails_to_import_is_named(
        self, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (tmp_path / "broken_store_module_ts.py").write_text("raise RuntimeError('boom at import')\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        with pytest.raises(StoreConfigError, match=r"importing module 'broken_store_module_ts' failed.*boom"):
            load_store_class("broken_store_module_ts:Store")

    @pytest.mark.parametrize("spec", ["sqlite", "=x", "", "memory"])
    def test_a_spec_needs_store_and_equals(self, spec: str) -> None:
        with pytest.raises(StoreConfigError, match="is not a store spec"):
            parse_store_spec(spec)

    def test_make_store_errors_name_the_class(self) -> None:
        with pytest.raises(StoreConfigError, match=f"{MODULE}:RecordingStore: refused on purpose"):
            open_store(f"{MODULE}:RecordingStore=refuse")


def test_spec_splits_at_the_first_equals() -> None:
    assert parse_store_spec("postgres=host=h dbname=d") == ("postgres", "host=h dbname=d")
    store = open_store(f"{MODULE}:RecordingStore=a=b?c=d")
    assert isinstance(store, RecordingStore) and store.connection_string == "a=b?c=d"
    assert isinstance(open_store("memory="), InMemoryStore)


# -- copy_traces ---------------------------------------------------------------------


class CountingStore(TracesOnlyStore):
    """Counts add() calls and records the rows in the order they were added."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.added: List[Tuple[Any, ...]] = []

    def add(self, traces: Iterable[Any]) -> None:
        batch = list(traces)
        self.calls += 1
        self.added += [CallTraceRow.from_trace(t).as_tuple() for t in batch]
        super().add(batch)


@pytest.mark.parametrize("batch_size", [1, 7, 1000, 10**6])
def test_copy_keeps_every_trace_and_each_modules_order(batch_size: int) -> None:
    batches = workload_batches()
    src = filled_memory_store(batches)
    dst = CountingStore()
    report = copy_traces(src, dst, batch_size=batch_size)
    expected = expected_history(batches)
    assert history(src) == expected  # the source is right, so the comparison below means something
    assert history(dst) == expected
    rows = sum(map(len, expected.values()))
    assert (report.copied, report.failed, report.modules) == (rows, 0, len(expected))
    assert dst.calls == sum(-(-len(module_rows) // batch_size) for module_rows in expected.values())
    assert report.decoded and not report.streamed


def test_copy_again_adds_nothing_and_moves_nothing() -> None:
    batches = workload_batches()
    src, dst = filled_memory_store(batches), CountingStore()
    first = copy_traces(src, dst)
    calls = dst.calls
    again = copy_traces(src, dst)
    assert history(dst) == expected_history(batches)
    assert (again.copied, again.up_to_date, again.modules) == (0, first.modules, first.modules)
    assert dst.calls == calls


def test_copy_again_recopies_only_the_modules_that_changed() -> None:
    batches = workload_batches()
    src, dst = filled_memory_store(batches), CountingStore()
    copy_traces(src, dst)
    newer = production_workload(50, seed=9)
    src.add(newer)
    changed = {trace.func.__module__ for trace in newer}
    again = copy_traces(src, dst)
    assert history(dst) == history(src) == expected_history([*batches, newer])
    assert again.up_to_date == len(history(src)) - len(changed)
    assert again.copied == sum(len(history(src)[module]) for module in changed)


class DuplicatingStore(CountingStore):
    """Keeps every added trace (distinct_results = False), most recent first."""

    distinct_results = False

    def filter(self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000) -> List[Any]:
        rows = [CallTraceRow(*fields) for fields in reversed(self.added) if fields[0] == module]
        return [row for row in rows if row.qualname.startswith(qualname_prefix or "")][:limit]


def test_copy_again_into_a_store_that_keeps_duplicates_adds_none() -> None:
    batches = workload_batches()
    src, dst = filled_memory_store(batches), DuplicatingStore()
    copy_traces(src, dst)
    copy_traces(src, dst)
    assert history(dst) == expected_history(batches)


def test_copy_onto_a_store_with_traces_makes_the_copied_ones_most_recent() -> None:
    old, new = workload_batches(seed=1), workload_batches(seed=2)
    src, dst = filled_memory_store(new), filled_memory_store(old)
    copy_traces(src, dst)
    assert history(dst) == expected_history([*old, *_copy_order(src)])


def _copy_order(src: TracesOnlyStore) -> List[List[Any]]:
    """The traces in the order the copy adds them: module by module, oldest first."""
    return [[t.to_trace() for t in reversed(src.filter(m, None, ALL))] for m in src.list_modules()]


class RowListStore(TracesOnlyStore):
    """Lists the given rows (most recent first) for this test module, whatever they name."""

    def __init__(self, rows: List[CallTraceRow]) -> None:
        super().__init__()
        self.rows = rows

    def filter(self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000) -> List[Any]:
        return [r for r in self.rows if r.module == module][:limit]

    def list_modules(self) -> List[str]:
        return [MODULE]


def test_undecodable_traces_are_counted_and_reported_not_dropped_silently() -> None:
    good = [CallTraceRow.from_trace(t) for t in _local_traces()]
    rows = [missing_row("gone_1"), good[0], missing_row("gone_2"), good[1], missing_row("gone_3")]
    dst = TracesOnlyStore()
    report = copy_traces(RowListStore(rows), dst)
    assert (report.copied, report.failed) == (2, 3)
    assert [(f.module, f.qualname) for f in report.failures] == [(MODULE, f"gone_{i}") for i in (3, 2, 1)]
    assert all("NameLookupError" in f.error and "has no attribute" in f.error for f in report.failures)
    assert history(dst) == {MODULE: [good[0].as_tuple(), good[1].as_tuple()]}


def local_function(value: int) -> str:
    return str(value)


def _local_traces() -> List[Any]:
    from tracestore import CallTrace

    return [CallTrace(local_function, {"value": int}, str), CallTrace(local_function, {"value": bool}, str)]


@pytest.mark.parametrize(
    "bad",
    [
        missing_row("gone"),
        CallTraceRow("no_such_module_ts", "f", "{}", None, None),
        CallTraceRow(MODULE, "local_function", "{not json", None, None),
        CallTraceRow(MODULE, "local_function", "{}", '{"module": "builtins", "qualname": "len"}', None),
        CallTraceRow(MODULE, "local_function", 42, None, None),  # type: ignore[arg-type]
    ],
)
def test_the_copys_cached_decoder_fails_as_to_trace_does(bad: CallTraceRow) -> None:
    with pytest.raises(DecodeError) as expected:
        bad.to_trace()
    with pytest.raises(DecodeError) as got:
        RowDecoder().decode(bad)
    assert (type(got.value), str(got.value)) == (type(expected.value), str(expected.value))


def test_the_copys_cached_decoder_decodes_as_to_trace_does() -> None:
    rows = [CallTraceRow.from_trace(t) for t in production_workload(500)]
    decoder = RowDecoder(maxsize=7)  # small, so that the caches are emptied along the way too
    decoded = [decoder.decode(row) for row in rows]
    assert decoded == [row.to_trace() for row in rows]
    assert len({id(trace.arg_types) for trace in decoded}) == len(rows)  # a dict of its own each


class StreamingStore(CountingStore):
    """A source with the optional iter_rows() extension: every row oldest first, across modules."""

    def __init__(self) -> None:
        super().__init__()
        self.filter_calls = 0

    def iter_rows(self) -> Iterator[CallTraceRow]:
        order = {fields: index for index, fields in enumerate(self.added)}
        latest = sorted(order, key=order.__getitem__)
        return (CallTraceRow(*fields) for fields in latest)

    def filter(self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000) -> List[Any]:
        self.filter_calls += 1
        return super().filter(module, qualname_prefix, limit)


def test_a_sources_iter_rows_is_used_and_keeps_the_order_across_modules() -> None:
    batches = workload_batches()
    src = StreamingStore()
    for batch in batches:
        src.add(batch)
    dst = CountingStore()
    report = copy_traces(src, dst, batch_size=100)
    assert report.streamed and src.filter_calls == 0
    assert history(dst) == expected_history(batches)
    assert dst.added == [row.as_tuple() for row in src.iter_rows()]
    assert report.modules == len(expected_history(batches))


def test_a_streamed_copy_reports_progress_to_the_end() -> None:
    batches = workload_batches()
    src = StreamingStore()
    for batch in batches:
        src.add(batch)
    rows, modules = len(list(src.iter_rows())), len(expected_history(batches))
    seen: List[Any] = []
    copy_traces(src, CountingStore(), batch_size=100, progress=seen.append)
    assert seen, "a copy shorter than a second still reports where it ended"
    last = seen[-1]
    assert (last.modules_done, last.modules_total, last.copied, last.failed) == (modules, None, rows, 0)
    err = io.StringIO()
    src_name, dst_name = f"src-{uuid.uuid4().hex}", f"dst-{uuid.uuid4().hex}"
    named = InMemoryStore.make_store(src_name)  # has iter_rows; alive while the command runs
    for batch in batches:
        named.add(batch)
    assert main(["copy", f"memory={src_name}", f"memory={dst_name}"], stderr=err) == 0
    last_line = f"tracestore copy: {modules} modules, {rows:,} traces copied, 0 failed to decode"
    assert last_line in err.getvalue()


class RowSinkStore(InMemoryStore):
    """A destination with the optional add_rows() extension."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: List[CallTraceRow] = []

    def add_rows(self, rows: Iterable[CallTraceRow]) -> None:
        self.rows += list(rows)


def test_a_destinations_add_rows_takes_rows_without_decoding() -> None:
    rows = [missing_row("gone_1"), CallTraceRow.from_trace(_local_traces()[0]), missing_row("gone_2")]
    dst = RowSinkStore()
    report = copy_traces(RowListStore(rows), dst)
    assert (report.copied, report.failed, report.decoded) == (3, 0, False)
    assert dst.rows == list(reversed(rows))
    assert all(type(row) is CallTraceRow for row in dst.rows)


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        copy_traces(InMemoryStore(), InMemoryStore(), batch_size=0)


class NoListing(MonkeyTypeCallTraceStore):
    def add(self, traces: Iterable[Any]) -> None:
        pass

    def filter(self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000) -> List[Any]:
        return []


def test_a_source_that_cannot_list_its_modules_is_refused_clearly() -> None:
    with pytest.raises(TypeError, match="neither list_modules\\(\\) nor iter_rows\\(\\)"):
        copy_traces(NoListing(), InMemoryStore())


def test_notes_say_what_a_copy_cannot_promise() -> None:
    assert copy_notes(InMemoryStore(), InMemoryStore()) == []
    notes = copy_notes(NoListing(), NoListing())
    assert len(notes) == 2
    assert "does not declare ordered_results" in notes[0]
    assert "does not declare distinct_results" in notes[1]

    class Duplicating(InMemoryStore):
        distinct_results = False

    assert "keeps duplicates" in copy_notes(InMemoryStore(), Duplicating())[0]
    assert copy_notes(StreamingStore(), InMemoryStore()) == []  # iter_rows is oldest first by definition


# -- the CLI, in this process ----------------------------------------------------------


def run_cli(*argv: str) -> Tuple[int, str]:
    err = io.StringIO()
    code = main(list(argv), stderr=err)
    return code, err.getvalue()


TRACES_ONLY = f"{MODULE}:TracesOnlyStore"


def test_cli_copies_and_summarises() -> None:
    src_name, dst_name = f"src-{uuid.uuid4().hex}", f"dst-{uuid.uuid4().hex}"
    batches = workload_batches()
    src = TracesOnlyStore.make_store(src_name)
    dst = TracesOnlyStore.make_store(dst_name)  # named memory stores are shared while one is alive
    for batch in batches:
        src.add(batch)
    code, err = run_cli("copy", f"{TRACES_ONLY}={src_name}", f"{TRACES_ONLY}={dst_name}")
    assert code == 0, err
    rows = sum(map(len, expected_history(batches).values()))
    unsaid = "added (the destination does not say how many were new)"
    assert (
        f"{rows:,} rows read from 20 modules (decoded traces): {rows:,} {unsaid}; 0 failed to decode; " in err
    )
    assert f"20/20 modules, {rows:,} traces copied" in err  # the last progress line
    assert "note: the source's class has no make_read_only_store()" in err
    assert history(dst) == expected_history(batches)
    code, quiet = run_cli("copy", "--quiet", f"{TRACES_ONLY}={src_name}", f"{TRACES_ONLY}={dst_name}")
    (summary,) = [line for line in quiet.splitlines() if " note: " not in line]
    assert code == 0 and summary.startswith(
        f"tracestore copy: {rows:,} rows read from 20 modules (decoded traces): 0 {unsaid}; "
        "0 failed to decode, 20 modules already up to date; "
    )
    assert history(dst) == expected_history(batches)


_ROWS_FOR_CLI: Dict[str, List[CallTraceRow]] = {}


class PlantedRows(RowListStore):
    @classmethod
    def make_store(cls, connection_string: str) -> PlantedRows:
        return cls(_ROWS_FOR_CLI[connection_string])


def test_cli_exits_1_and_lists_what_it_could_not_copy() -> None:
    name = uuid.uuid4().hex
    _ROWS_FOR_CLI[name] = [missing_row("gone"), CallTraceRow.from_trace(_local_traces()[0])]
    code, err = run_cli("copy", f"{MODULE}:PlantedRows={name}", f"{TRACES_ONLY}={uuid.uuid4().hex}")
    assert code == 1
    assert f"not copied: {MODULE}:gone: NameLookupError: Module '{MODULE}' has no attribute 'gone'" in err
    assert (
        "2 rows read from 1 modules (decoded traces): 1 added (the destination does not say how many" in err
    )
    assert "were new); 1 failed to decode; " in err


def test_cli_copies_what_it_cannot_decode_into_a_store_with_add_rows() -> None:
    name, dst_name = uuid.uuid4().hex, uuid.uuid4().hex
    rows = [missing_row("gone"), CallTraceRow.from_trace(_local_traces()[0])]
    _ROWS_FOR_CLI[name] = rows
    dst = InMemoryStore.make_store(dst_name)
    code, err = run_cli("copy", f"{MODULE}:PlantedRows={name}", f"memory={dst_name}")
    assert code == 0, err
    assert "2 rows read from 1 modules (rows as they are): 2 added (the destination does not say" in err
    assert all_rows(dst) == [row.as_tuple() for row in reversed(rows)]


@pytest.mark.parametrize(
    ("src", "dst", "message"),
    [
        ("nonsense", "memory=", "SRC 'nonsense': 'nonsense' is not a store spec"),
        ("memory=", "no_such_module_ts:S=x", "DST 'no_such_module_ts:S=x': no_such_module_ts:S: module"),
        (f"{MODULE}:RecordingStore=refuse", "memory=", "refused on purpose"),
        ("memory=same", "memory=same", "SRC and DST are the same store"),
    ],
)
def test_cli_refuses_bad_specs_with_exit_2(src: str, dst: str, message: str) -> None:
    code, err = run_cli("copy", src, dst)
    assert code == 2
    assert message in err and err.startswith("tracestore copy: error: ")


def test_cli_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exited:
        run_cli("copy", "memory=")
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        run_cli("copy", "--batch-size", "0", "memory=a", "memory=b")
    assert exited.value.code == 2


# -- reference stores and files MonkeyType wrote ------------------------------------------

FILE_STORES = ["sqlite", "lmdb", "postgres", "mysql", "redis"]
MYSQL_TABLES = mysql.TableFactory("copy")


@pytest.fixture(scope="module")
def schemas() -> Iterator[SchemaFactory]:
    yield from run_schemas("copy", required=False)


@pytest.fixture(scope="module", autouse=True)
def mysql_tables() -> Iterator[None]:
    yield
    if mysql.server_problem() is None:
        MYSQL_TABLES.drop_all()


@pytest.fixture(scope="module")
def prefixes() -> Iterator[PrefixFactory]:
    yield from run_prefixes("copy", required=False)


def connection_for(
    alias: str, directory: pathlib.Path, schemas: SchemaFactory, prefixes: PrefixFactory
) -> str:
    load_store_class(alias)  # a store that is not written yet fails here, by name
    if alias == "sqlite":
        return str(directory / "copied.sqlite3")
    if alias == "lmdb":
        return str(directory / "copied.lmdb")
    if alias == "mysql":
        mysql.require_server()
        return MYSQL_TABLES.connection_string()
    if alias == "redis":
        require_redis()
        return prefixes.connection_string()
    require_server()
    return schemas.connection_string()


def monkeytype_file(path: pathlib.Path, batches: List[List[Any]]) -> pathlib.Path:
    """A monkeytype.sqlite3 written by MonkeyType 23.3.0's own SQLiteStore, one add() per batch."""
    store = MonkeyTypeSQLiteStore.make_store(str(path))
    with warnings.catch_warnings():  # its datetime adapter is deprecated on Python 3.12+
        warnings.simplefilter("ignore", DeprecationWarning)
        for batch in batches:
            store.add(batch)
    return path


def expected_order(batches: Iterable[Iterable[Any]]) -> List[Tuple[Any, ...]]:
    """What ``iter_rows`` of an ordered, distinct store lists after adding ``batches`` in order."""
    latest: Dict[Tuple[Any, ...], None] = {}
    for batch in batches:
        for trace in batch:
            fields = CallTraceRow.from_trace(trace).as_tuple()
            latest.pop(fields, None)
            latest[fields] = None
    return list(latest)


def all_rows(store: Any) -> List[Tuple[Any, ...]]:
    return [_fields(row) for row in store.iter_rows()]


@pytest.mark.parametrize("alias", FILE_STORES)
def test_copy_a_monkeytype_file_into_a_reference_store(
    alias: str, tmp_path: pathlib.Path, schemas: SchemaFactory, prefixes: PrefixFactory
) -> None:
    connection = connection_for(alias, tmp_path, schemas, prefixes)
    batches = workload_batches()
    path = monkeytype_file(tmp_path / "monkeytype.sqlite3", batches)
    before = sha1(path)
    src, read_only = open_source(f"sqlite={path}")
    assert read_only
    expected = expected_history(batches)
    assert history(src) == expected, "our SQLiteStore must list MonkeyType's file in insertion order"
    assert all_rows(src) == expected_order(batches), "and stream it in insertion order, across modules"
    dst = open_store(f"{alias}={connection}")
    report: CopyReport = copy_traces(src, dst)
    rows = sum(map(len, expected.values()))
    assert (report.read, report.copied, report.new, report.failed) == (rows, rows, rows, 0)
    assert report.streamed and not report.decoded
    assert history(dst) == expected
    assert all_rows(dst) == expected_order(batches)
    again = copy_traces(src, dst)
    assert (again.read, again.new, again.already_there) == (rows, 0, rows)
    assert history(dst) == expected  # re-running adds no duplicates and keeps the order
    assert all_rows(dst) == expected_order(batches)
    assert sha1(path) == before  # the source was read, never written
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith("monkeytype")) == [path.name]


# -- the command, as a user runs it, on a file `monkeytype run` wrote ------------------------


@pytest.fixture(scope="module")
def traced_sample(tmp_path_factory: pytest.TempPathFactory) -> Tuple[pathlib.Path, pathlib.Path]:
    """(packages dir, monkeytype.sqlite3) after `monkeytype run` over the sample program."""
    directory = tmp_path_factory.mktemp("copy_sample")
    packages = sample_copy(directory)
    path = directory / "monkeytype.sqlite3"
    monkeytype(monkeytype_backend(path), packages, directory, "run", "-m", "sample_program.driver")
    return packages, path


def tracestore_copy(
    packages: pathlib.Path, cwd: pathlib.Path, *argv: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MT_DB_PATH", "TRACESTORE_STORE")}
    env["PYTHONPATH"] = os.pathsep.join([str(packages), str(ROOT)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [sys.executable, "-m", "tracestore", "copy", *argv]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("alias", FILE_STORES)
def test_copy_command_on_a_file_monkeytype_run_wrote(
    alias: str,
    traced_sample: Tuple[pathlib.Path, pathlib.Path],
    tmp_path: pathlib.Path,
    schemas: SchemaFactory,
    prefixes: PrefixFactory,
) -> None:
    """The reference stores copy rows as they are: a trace of a deleted function arrives intact."""
    connection = connection_for(alias, tmp_path, schemas, prefixes)
    _, mt_file = traced_sample
    source, destination = f"sqlite={mt_file}", f"{alias}={connection}"
    src = open_store(source)
    src_history, src_rows = history(src), all_rows(src)
    assert sorted(src_history) == ["sample_program.legacy", "sample_program.shapes"]
    assert [row[:2] for row in src_rows if row[1] == "retired"] == [("sample_program.legacy", "retired")]

    changed = sample_copy(tmp_path / "changed")  # legacy.retired deleted since it was traced
    delete_retired_function(changed)
    before = sha1(mt_file)
    n = len(src_rows)
    for run, outcome in (("first", f"{n} new, 0 already there"), ("again", f"0 new, {n} already there")):
        done = tracestore_copy(changed, tmp_path, source, destination)
        assert done.returncode == 0, done.stderr
        assert (
            f"{n} rows read from 2 modules (rows as they are): {outcome}; 0 failed to decode; " in done.stderr
        )
        assert sha1(mt_file) == before, "the copy wrote to its source"
        print(f"({run}; legacy.retired deleted) $ python -m tracestore copy {source} {destination}")
        print(done.stderr)
        dst = open_store(destination)
        assert all_rows(dst) == src_rows  # every row, the retired one too, in order across modules
        assert history(dst) == src_history  # no duplicates after the second run, nothing moved
