"""SQLiteStore and MonkeyType 23.3.0 share files both ways.

* MonkeyType's ``SQLiteStore`` and its CLI (``list-modules``, ``stub``) read a file we wrote.
* We read a file MonkeyType wrote as it is, leaving it byte-identical (also read-only,
  ``mode=ro``), and upgrade it in place at the first add (or ``upgrade()``): nothing is
  lost, and recency is MonkeyType's row order (its timestamps are never consulted).
* MonkeyType may keep writing to an upgraded file; we read and keep those rows too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pathlib
import re
import sqlite3
import subprocess
import sys
from typing import Any, List, Sequence, Set, Tuple

import pytest
from monkeytype.db.sqlite import SQLiteStore as MonkeyTypeStore
from monkeytype.tracing import CallTrace as MonkeyTypeCallTrace

from conformance import sample_functions as sf
from reference_stores.memory import InMemoryStore
from reference_stores.sqlite import SQLiteStore
from tests.support.reliability import concurrent_writers, missing_writer_traces
from tests.support.workload import production_workload
from tracestore import (
    CallTrace,
    CallTraceRow,
    CallTraceThunk,
    StoreConfigError,
    TraceStoreError,
    traces_equal,
)

# MonkeyType's own writes use sqlite3's datetime adapter, deprecated since Python 3.12.
pytestmark = pytest.mark.filterwarnings("ignore:The default datetime adapter:DeprecationWarning")
ROOT = pathlib.Path(__file__).resolve().parents[2]
TABLE = "monkeytype_call_traces"
SAMPLE = sf.__name__
SPEC = "reference_stores.sqlite:SQLiteStore"
RowTuple = Tuple[Any, ...]


def sample_traces() -> List[CallTrace]:
    return [
        CallTrace(sf.module_function, {"a": int, "b": str}, int),
        CallTrace(sf.module_function, {"a": str}, str),
        CallTrace(sf.generator_function, {"n": int}, type(None), int),
        CallTrace(sf.Point.__init__, {"self": sf.Point, "x": int}, type(None)),
        CallTrace(sf.Point.method, {"self": sf.Point, "other": List[int]}, List[int]),
        CallTrace(sf.Point.static_method, {"value": bytes}, bytes),
        CallTrace(sf.Outer.Inner.method, {"self": sf.Outer.Inner, "value": sf.Point}, sf.Point),
    ]


def rows_of(found: Sequence[Any]) -> List[RowTuple]:
    return [(r.module, r.qualname, r.arg_types, r.return_type, r.yield_type) for r in found]


def our_rows(found: Sequence[CallTraceThunk]) -> List[RowTuple]:
    return [r.as_tuple() for r in found if isinstance(r, CallTraceRow)]


def run_monkeytype(db: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, MT_DB_PATH=str(db), PYTHONPATH=path)  # the traced code must import
    return subprocess.run(
        [sys.executable, "-m", "monkeytype", *args],
        env=env,
        cwd=str(db.parent),
        capture_output=True,
        text=True,
        timeout=120,
    )


# -- MonkeyType reads our file -----------------------------------------------------------------


def test_monkeytypes_store_reads_what_we_wrote(tmp_path: pathlib.Path) -> None:
    db = tmp_path / "traces.sqlite3"
    ours = SQLiteStore.make_store(str(db))
    traces = sample_traces()
    ours.add(traces + production_workload(500))
    theirs = MonkeyTypeStore.make_store(str(db))
    assert sorted(theirs.list_modules()) == sorted(ours.list_modules())
    for module in ours.list_modules():
        assert sorted(rows_of(theirs.filter(module, None, 10_000))) == sorted(
            our_rows(ours.filter(module, None, 10_000))
        )
    decoded = [thunk.to_trace() for thunk in theirs.filter(SAMPLE, None, 100)]
    assert all(isinstance(t, MonkeyTypeCallTrace) for t in decoded)
    assert len(decoded) == len(traces)
    assert all(any(traces_equal(d, t) for t in traces) for d in decoded)
    assert [rows_of(theirs.filter(SAMPLE, "Point.method"))] == [
        [CallTraceRow.from_trace(traces[4]).as_tuple()]
    ]


def test_monkeytype_cli_lists_modules_and_writes_stubs_from_our_file(tmp_path: pathlib.Path) -> None:
    db = tmp_path / "traces.sqlite3"
    SQLiteStore.make_store(str(db)).add(sample_traces())
    listed = run_monkeytype(db, "list-modules")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == [SAMPLE]
    stub = run_monkeytype(db, "stub", SAMPLE, "--ignore-existing-annotations")
    assert stub.returncode == 0, stub.stderr
    either = r"Union\[(int, str|str, int)\]"  # the order of MonkeyType's rows decides
    assert re.search(
        rf"def module_function\(a: {either}, b: Optional\[str\] = \.\.\.\) -> {either}", stub.stdout
    )
    assert "def generator_function(n: int) -> Iterator[int]" in stub.stdout
    assert "def method(self, other: List[int]) -> List[int]" in stub.stdout
    assert "def method(self, value: Point) -> Point" in stub.stdout


# -- we read, and upgrade, MonkeyType's file -------------------------------------------------------


def monkeytype_history() -> List[List[CallTrace]]:
    """Adds with repeats inside and across them, so MonkeyType's table holds duplicates."""
    traces = sample_traces()
    return [traces, traces[:3], [traces[5], traces[0], traces[5]], traces[2:4] * 3, [traces[6]]]


def write_with_monkeytype(db: pathlib.Path, history: List[List[CallTrace]]) -> int:
    theirs = MonkeyTypeStore.make_store(str(db))
    assert isinstance(theirs, MonkeyTypeStore)
    for batch in history:
        theirs.add(batch)  # type: ignore[arg-type]  # duck-typed traces
    theirs.conn.close()
    ((count,),) = sqlite3.connect(str(db)).execute(f"SELECT count(*) FROM {TABLE}").fetchall()
    return int(count)


def sha1(path: pathlib.Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def monkeytype_file_and_model(db: pathlib.Path) -> InMemoryStore:
    """A MonkeyType file whose timestamps disagree with its row order, and the model of its history."""
    history = monkeytype_history()
    stored_rows = write_with_monkeytype(db, history)
    assert stored_rows == sum(map(len, history))  # duplicates and all
    conn = sqlite3.connect(str(db))
    conn.execute(f"UPDATE {TABLE} SET created_at = '2001-01-01 00:00:00' WHERE rowid > 10")
    conn.commit()
    conn.close()
    model = InMemoryStore.make_store("")
    for batch in history:
        model.add(batch)
    return model


def assert_answers_like(ours: SQLiteStore, model: InMemoryStore) -> None:
    for limit in (1, 3, 100):
        assert our_rows(ours.filter(SAMPLE, None, limit)) == our_rows(model.filter(SAMPLE, None, limit))
    for prefix in ("Point", "Point.", "point", "Outer.Inner.method", "%", "module_function"):
        assert our_rows(ours.filter(SAMPLE, prefix, 100)) == our_rows(model.filter(SAMPLE, prefix, 100))
    assert (
        ours.filter(SAMPLE[:-1]) == []
        and ours.filter(SAMPLE + " ") == []
        and ours.filter(SAMPLE.upper()) == []
    )
    assert ours.list_modules() == [SAMPLE]
    model_rows = [
        row for m in model.list_modules() for row in reversed(our_rows(model.filter(m, None, 10**6)))
    ]
    assert sorted(r.as_tuple() for r in ours.iter_rows()) == sorted(model_rows)
    assert [r.as_tuple() for r in ours.iter_rows()] == model_rows  # one module: its oldest first


@pytest.mark.parametrize("read_only", [False, True], ids=["writable", "mode=ro"])
def test_reading_a_monkeytype_file_leaves_it_byte_identical(tmp_path: pathlib.Path, read_only: bool) -> None:
    db = tmp_path / "traces.sqlite3"
    model = monkeytype_file_and_model(db)
    before = sha1(db)
    ours = SQLiteStore.make_store(str(db) + ("?mode=ro" if read_only else ""))
    assert_answers_like(ours, model)  # MonkeyType's table read as it is: S2, S3, S5, S6
    ours.close()
    assert sha1(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["traces.sqlite3"]  # no -wal, -shm, -journal
    kinds = dict(sqlite3.connect(str(db)).execute("SELECT name, type FROM sqlite_master"))
    assert kinds == {TABLE: "table"}


def test_a_read_only_store_refuses_writes_and_never_creates(tmp_path: pathlib.Path) -> None:
    db = tmp_path / "traces.sqlite3"
    monkeytype_file_and_model(db)
    before = sha1(db)
    ours = SQLiteStore.make_store(f"{db}?mode=ro")
    for write in (lambda: ours.add(sample_traces()), lambda: ours.add([]), ours.upgrade):
        with pytest.raises(TraceStoreError, match=r"read-only \(mode=ro\)"):
            write()
    assert sha1(db) == before
    with pytest.raises(StoreConfigError, match="mode=ro opens an existing file"):
        SQLiteStore.make_store(f"{tmp_path / 'missing.sqlite3'}?mode=ro")
    assert not (tmp_path / "missing.sqlite3").exists()
    with pytest.raises(StoreConfigError, match="mode must be 'ro'"):
        SQLiteStore.make_store(f"{db}?mode=rw")


def test_a_file_we_wrote_is_left_byte_identical_by_a_read_only_session(tmp_path: pathlib.Path) -> None:
    db = tmp_path / "traces.sqlite3"
    writer = SQLiteStore.make_store(str(db))
    writer.add(sample_traces())
    writer.close()
    before = sha1(db)
    reader = SQLiteStore.make_store(f"{db}?mode=ro")
    assert len(reader.filter(SAMPLE)) == len(sample_traces())
    assert reader.list_modules() == [SAMPLE] and len(list(reader.iter_rows())) == len(sample_traces())
    reader.close()
    assert sha1(db) == before


def test_the_first_add_upgrades_a_monkeytype_file_losing_nothing_and_compacts_it(
    tmp_path: pathlib.Path,
) -> None:
    db = tmp_path / "traces.sqlite3"
    model = monkeytype_file_and_model(db)
    ours = SQLiteStore.make_store(str(db))
    extra = CallTrace(logging.getLogger, {"name": str}, logging.Logger)
    ours.add([extra])
    model.add([extra])
    conn = sqlite3.connect(str(db))
    kinds = dict(conn.execute("SELECT name, type FROM sqlite_master"))
    assert kinds[TABLE] == "view"
    assert conn.execute("PRAGMA freelist_count").fetchone() == (0,)  # VACUUM gave the old table back
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    assert our_rows(ours.filter(SAMPLE)) == our_rows(model.filter(SAMPLE))
    reopened = SQLiteStore.make_store(str(db))
    for limit in (1, 3, 100):
        assert our_rows(reopened.filter(SAMPLE, None, limit)) == our_rows(model.filter(SAMPLE, None, limit))
    assert our_rows(reopened.filter(SAMPLE, "Point", 100)) == our_rows(model.filter(SAMPLE, "Point", 100))
    assert sorted(reopened.list_modules()) == sorted(["logging", SAMPLE])
    theirs = MonkeyTypeStore.make_store(str(db))  # MonkeyType still reads the upgraded file
    assert sorted(rows_of(theirs.filter(SAMPLE, None, 100))) == sorted(our_rows(model.filter(SAMPLE)))


def test_a_store_opened_on_a_monkeytype_file_sees_another_process_upgrade_it(tmp_path: pathlib.Path) -> None:
    db = tmp_path / "traces.sqlite3"
    model = monkeytype_file_and_model(db)
    reader = SQLiteStore.make_store(f"{db}?mode=ro")
    assert our_rows(reader.filter(SAMPLE)) == our_rows(model.filter(SAMPLE))
    assert SQLiteStore.make_store(str(db)).upgrade() is True
    assert our_rows(reader.filter(SAMPLE)) == our_rows(model.filter(SAMPLE))
    assert reader.list_modules() == [SAMPLE]


def test_monkeytype_may_keep_writing_to_an_upgraded_file(tmp_path: pathlib.Path) -> None:
    db = tmp_path / "traces.sqlite3"
    traces = sample_traces()
    ours = SQLiteStore.make_store(str(db))
    ours.add(traces[:4])
    theirs = MonkeyTypeStore.make_store(str(db))
    theirs.add([traces[5], traces[0], traces[5]])  # type: ignore[list-item]
    theirs.add([CallTrace(logging.getLogger, {"name": str}, logging.Logger)])  # type: ignore[list-item]
    expected = [traces[5], traces[0], traces[3], traces[2], traces[1]]
    rows = our_rows(ours.filter(SAMPLE))  # read before any add of ours folds them in
    assert rows == [CallTraceRow.from_trace(t).as_tuple() for t in expected]
    assert sorted(ours.list_modules()) == sorted(["logging", SAMPLE])
    ours.add([traces[6]])
    assert our_rows(ours.filter(SAMPLE)) == [
        CallTraceRow.from_trace(t).as_tuple() for t in [traces[6], *expected]
    ]
    assert sqlite3.connect(str(db)).execute(f"SELECT count(*) FROM {TABLE}__ts_incoming").fetchall() == [(0,)]
    (logger_row,) = ours.filter("logging")
    assert traces_equal(logger_row.to_trace(), CallTrace(logging.getLogger, {"name": str}, logging.Logger))


def test_rows_without_a_module_are_dropped_with_a_warning(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "traces.sqlite3"
    write_with_monkeytype(db, [sample_traces()[:2]])
    conn = sqlite3.connect(str(db))
    conn.execute(f"INSERT INTO {TABLE} VALUES ('2024-01-01', NULL, 'f', '{{}}', NULL, NULL)")
    conn.commit()
    conn.close()
    ours = SQLiteStore.make_store(str(db))
    assert len(ours.filter(SAMPLE)) == 2  # read as it is: the row is not listed
    with caplog.at_level(logging.WARNING):
        ours.upgrade()
    assert "Dropped 1 row" in caplog.text
    assert len(ours.filter(SAMPLE)) == 2


def test_concurrent_processes_upgrade_a_monkeytype_file_once(tmp_path: pathlib.Path) -> None:
    db = tmp_path / "traces.sqlite3"
    write_with_monkeytype(db, monkeytype_history())
    errors = concurrent_writers(SPEC, str(db), processes=3, traces_per_process=300, race_open=True)
    assert errors == [None, None, None], "\n".join(e for e in errors if e)
    assert missing_writer_traces(SPEC, str(db), 3, 300) == []
    survivors: Set[RowTuple] = set(our_rows(SQLiteStore.make_store(str(db)).filter(SAMPLE)))
    assert survivors == {CallTraceRow.from_trace(t).as_tuple() for t in sample_traces()}


def test_monkeytypes_own_query_on_our_view_uses_indexes(tmp_path: pathlib.Path) -> None:
    from monkeytype.db.sqlite import make_query

    db = tmp_path / "traces.sqlite3"
    SQLiteStore.make_store(str(db)).add(sample_traces() + production_workload(2000))
    query, values = make_query(TABLE, SAMPLE, None, 2000)
    conn = sqlite3.connect(str(db))
    plan = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + query, values))
    assert "SCAN t" not in plan and "SCAN r" not in plan, plan
