"""SQLiteStore: connection strings, schema and query plans, dedupe and recency, threads and fork.

MonkeyType file compatibility is in ``test_sqlite_compat.py``, processes and crashes in
``test_reliability_sqlite.py``; the conformance kit's run is ``tests/kit/test_user_example.py``.
"""

from __future__ import annotations

import functools
import os
import pathlib
import sqlite3
import sys
import threading
import types
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_stores.memory import InMemoryStore
from reference_stores.sqlite import SQLiteStore
from reference_stores.sqlite import plans as sqlite_plans
from reference_stores.sqlite.config import parse_connection_string
from reference_stores.sqlite.rows import escape, unescape
from reference_stores.sqlite.schema import SCHEMA_VERSION
from tests.support.rows import func_named, rows, trace, tuples
from tests.support.workload import TYPES, distinct_traces, functions, production_workload
from tracestore import CallTrace, CallTraceRow, StoreConfigError, TraceStoreError

TABLE = "monkeytype_call_traces"


@pytest.fixture
def path(tmp_path: pathlib.Path) -> str:
    return str(tmp_path / "traces.sqlite3")


@pytest.fixture
def store(path: str) -> Iterator[SQLiteStore]:
    made = SQLiteStore.make_store(path)
    yield made
    made.close()


def sql(path: str, query: str, params: Sequence[Any] = ()) -> List[Tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


# -- connection strings (S14) -------------------------------------------------------------


def test_class_attributes() -> None:
    assert SQLiteStore.ordered_results is True
    assert SQLiteStore.distinct_results is True
    assert SQLiteStore.example_connection_string == "{directory}/traces.sqlite3"


def test_table_parameter_names_the_table_and_tables_are_independent(path: str) -> None:
    default = SQLiteStore.make_store(path)
    other = SQLiteStore.make_store(path + "?table=other_traces&timeout=5&synchronous=full")
    default.add([trace("m", "f")])
    other.add([trace("m", "g")])
    assert [r.qualname for r in rows(default.filter("m"))] == ["f"]
    assert [r.qualname for r in rows(other.filter("m"))] == ["g"]
    kinds = dict(
        sql(path, "SELECT name, type FROM sqlite_master WHERE name IN (?, ?)", (TABLE, "other_traces"))
    )
    assert kinds == {TABLE: "view", "other_traces": "view"}
    assert other.config.synchronous == "FULL" and other.config.timeout == 5.0


def test_memory_stores_are_private() -> None:
    first = SQLiteStore.make_store(":memory:")
    second = SQLiteStore.make_store(":memory:?table=t")
    first.add([trace("m", "f")])
    assert len(first.filter("m")) == 1
    assert second.filter("m") == []


def test_file_uri_passes_sqlite_parameters_through(path: str) -> None:
    SQLiteStore.make_store(path).add([trace("m", "f")])
    readonly = SQLiteStore.make_store(f"file:{path}?mode=ro&table={TABLE}")
    assert len(readonly.filter("m")) == 1
    with pytest.raises(TraceStoreError, match="read-only"):
        readonly.add([trace("m", "g")])
    assert len(SQLiteStore.make_store(f"file://{path}").filter("m")) == 1


BAD_TABLES = ["1abc", "a-b", "a b", 'x"; DROP TABLE y; --', "sqlite_master", "", "t" * 65, "naïve"]


@pytest.mark.parametrize("table", BAD_TABLES)
def test_bad_table_name_is_refused_before_any_file_exists(tmp_path: pathlib.Path, table: str) -> None:
    conn = f"{tmp_path}/traces.sqlite3?table={table}"
    with pytest.raises(StoreConfigError) as info:
        SQLiteStore.make_store(conn)
    assert repr(conn) in str(info.value) and "bad table name" in str(info.value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("suffix", "why"),
    [
        ("", "is a directory"),
        ("/missing/traces.sqlite3", "does not exist"),
        ("/traces.sqlite3?tabel=x", "unknown parameter 'tabel'"),
        ("/traces.sqlite3?timeout=soon", "timeout must be a number"),
        ("/traces.sqlite3?timeout=-1", "timeout must be a finite number"),
        ("/traces.sqlite3?synchronous=off", "synchronous must be one of"),
        ("/traces.sqlite3?table=a&table=b", "given twice"),
        ("/traces.sqlite3?table", "cannot parse"),
    ],
)
def test_bad_connection_strings_say_which_and_why_and_leave_nothing(
    tmp_path: pathlib.Path, suffix: str, why: str
) -> None:
    conn = f"{tmp_path}{suffix}"
    with pytest.raises(StoreConfigError) as info:
        SQLiteStore.make_store(conn)
    assert repr(conn) in str(info.value)
    assert why in str(info.value)
    assert os.listdir(tmp_path) == []


def test_empty_and_non_string_connection_strings() -> None:
    with pytest.raises(StoreConfigError, match="empty"):
        SQLiteStore.make_store("")
    with pytest.raises(TypeError):
        SQLiteStore.make_store(pathlib.Path("x"))  # type: ignore[arg-type]


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "notes.txt"
    content = b"these are not the droids you are looking for\n" * 100
    target.write_bytes(content)
    with pytest.raises(StoreConfigError) as info:
        SQLiteStore.make_store(str(target))
    assert repr(str(target)) in str(info.value) and "not a database" in str(info.value)
    assert target.read_bytes() == content
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


def test_a_foreign_table_or_view_of_that_name_is_refused_and_left_alone(path: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE {TABLE} (id INTEGER, payload TEXT)")
    conn.execute("CREATE VIEW someone_elses AS SELECT 1 AS x")
    conn.execute(f"INSERT INTO {TABLE} VALUES (1, 'keep me')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreConfigError, match=r"lacks column.*created_at"):
        SQLiteStore.make_store(path)
    with pytest.raises(StoreConfigError, match="view that tracestore did not create"):
        SQLiteStore.make_store(path + "?table=someone_elses")
    assert sql(path, f"SELECT * FROM {TABLE}") == [(1, "keep me")]
    assert sql(path, "SELECT count(*) FROM sqlite_master") == [(2,)]


def test_a_newer_schema_is_refused(path: str, store: SQLiteStore) -> None:
    conn = sqlite3.connect(path)
    conn.execute(
        f"UPDATE {TABLE}__ts_meta SET value = ? WHERE name = 'schema_version'", (SCHEMA_VERSION + 1,)
    )
    conn.commit()
    conn.close()
    with pytest.raises(StoreConfigError, match="schema version"):
        SQLiteStore.make_store(path)


def test_parse_keeps_sqlite_uri_parameters_and_finds_the_file() -> None:
    config = parse_connection_string("file:/tmp/x.db?mode=ro&table=t&cache=shared")
    assert (config.database, config.uri, config.path, config.table) == (
        "file:/tmp/x.db?mode=ro&cache=shared",
        True,
        "/tmp/x.db",
        "t",
    )
    assert parse_connection_string("file::memory:?cache=shared").path is None


# -- schema and query plans -----------------------------------------------------------------


def test_journal_is_wal_and_the_schema_is_complete(path: str, store: SQLiteStore) -> None:
    assert sql(path, "PRAGMA journal_mode") == [("wal",)]
    names = {name for (name,) in sql(path, "SELECT name FROM sqlite_master")}
    assert set(store._names.expected()) <= names


def _plans(store: SQLiteStore, run: Callable[[], object]) -> List[str]:
    """EXPLAIN QUERY PLAN of every statement that ``run`` executes on the store's connection."""
    conn = store._connection()
    statements: List[str] = []
    conn.set_trace_callback(statements.append)
    try:
        run()
    finally:
        conn.set_trace_callback(None)
    plans = []
    for statement in statements:
        if statement.lstrip().upper().startswith(("SELECT", "INSERT", "DELETE")):
            detail = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + statement))
            plans.append(f"{statement}\n    -> {detail}")
    return plans


@pytest.fixture
def loaded(path: str) -> SQLiteStore:
    made = SQLiteStore.make_store(path)
    made.add(distinct_traces(6000))
    return made


def _full_scans(plan: str) -> List[str]:
    """Steps that read a whole table (the incoming table is empty here; probing it is O(1))."""
    steps = plan.split("\n    -> ")[1].split(" / ")
    return [s for s in steps if s.startswith("SCAN") and "incoming" not in s and "CONSTANT ROW" not in s]


@pytest.mark.parametrize("prefix", [None, "Handler", "func1", "func0", "Handler2", "nothing"])
def test_every_filter_statement_uses_an_index_and_never_sorts(
    loaded: SQLiteStore, prefix: Optional[str]
) -> None:
    plans = _plans(loaded, lambda: loaded.filter("tracestore_workload.mod03", prefix, 100))
    assert len(plans) >= 2, plans
    for plan in plans:
        assert _full_scans(plan) == [], plan
        assert "TEMP B-TREE" not in plan, plan


def test_add_statements_use_indexes(loaded: SQLiteStore) -> None:
    again = distinct_traces(50)
    plans = _plans(loaded, lambda: loaded.add(again + production_workload(50)))
    assert any("digest IN" in plan for plan in plans), plans
    for plan in plans:
        assert _full_scans(plan) == [], plan


def test_module_plan_reads_the_module_range_newest_first(loaded: SQLiteStore) -> None:
    plans = _plans(loaded, lambda: loaded.filter("tracestore_workload.mod03"))
    joined = "\n".join(plans)
    assert "USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in joined
    assert "USING INTEGER PRIMARY KEY (rowid=?)" in joined  # traces fetched by id


def _vm_steps(store: SQLiteStore, run: Callable[[], object]) -> int:
    """SQLite virtual-machine instructions (in tens) that ``run`` executes: work done, not time."""
    conn = store._connection()
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    conn.set_progress_handler(count, 10)
    try:
        run()
    finally:
        conn.set_progress_handler(None, 10)
    return steps[0]


@pytest.fixture(scope="module")
def small_and_large(tmp_path_factory: pytest.TempPathFactory) -> Tuple[SQLiteStore, SQLiteStore]:
    directory = tmp_path_factory.mktemp("sizes")
    traces = distinct_traces(80_000)  # 300 functions: 27 and 267 traces each
    small = SQLiteStore.make_store(str(directory / "small.sqlite3"))
    small.add(traces[:8_000])
    large = SQLiteStore.make_store(str(directory / "large.sqlite3"))
    large.add(traces)
    return small, large


@pytest.mark.parametrize("prefix", [None, "Handler", "func1", "Handler2"])
def test_filter_work_grows_with_limit_not_with_the_table(
    small_and_large: Tuple[SQLiteStore, SQLiteStore], prefix: Optional[str]
) -> None:
    small, large = small_and_large
    module = "tracestore_workload.mod03"
    for limit in (5, 25):
        few = _vm_steps(small, functools.partial(small.filter, module, prefix, limit))
        many = _vm_steps(large, functools.partial(large.filter, module, prefix, limit))
        assert len(small.filter(module, prefix, limit)) == len(large.filter(module, prefix, limit)) == limit
        assert many <= 1.2 * few + 5, (limit, few, many)  # ten times the traces, the same work
    assert _vm_steps(large, lambda: large.filter(module, prefix, 250)) > 2 * many  # and grows with limit


def test_repeats_are_stored_once(path: str, store: SQLiteStore) -> None:
    same = production_workload(1)
    for _ in range(50):
        store.add(same * 200)
    assert sql(path, f"SELECT count(*) FROM {TABLE}__ts_traces") == [(1,)]
    assert sql(path, f"SELECT count(*) FROM {TABLE}__ts_recent") == [(1,)]
    assert sql(path, f"SELECT count(*) FROM {TABLE}") == [(1,)]  # what MonkeyType reads


# -- results: the reference model, every plan --------------------------------------------------


MODULES = ["m", "m.sub", "M"]
QUALNAMES = ["f", "f.g", "F", "fo", "f%", "f_", "g", "h.i", "\x01", "é", "\ud800x", "f\x00", "\U0010ffff"]


@st.composite
def histories(draw: st.DrawFn) -> List[List[CallTrace]]:
    pool = [
        trace(module, qualname, arg) for module in MODULES for qualname in QUALNAMES for arg in (int, str)
    ]
    batches = draw(st.lists(st.lists(st.sampled_from(pool), max_size=12), max_size=6))
    return batches


@pytest.mark.parametrize("plan", ["chosen", "scan", "merge"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    history=histories(),
    module=st.sampled_from([*MODULES, "m.s", "missing"]),
    prefix=st.one_of(
        st.none(), st.sampled_from(["", "f", "f.", "F", "f%", "é", "\ud800", "\x01", "\U0010ffff"])
    ),
    limit=st.integers(0, 8),
)
def test_filter_equals_the_in_memory_model(
    plan: str,
    history: List[List[CallTrace]],
    module: str,
    prefix: Optional[str],
    limit: int,
    monkeypatch_plan: Callable[[str], None],
) -> None:
    monkeypatch_plan(plan)
    ours = SQLiteStore.make_store(":memory:")
    model = InMemoryStore.make_store("")
    for batch in history:
        ours.add(batch)
        model.add(batch)
    assert tuples(ours.filter(module, prefix, limit)) == tuples(model.filter(module, prefix, limit))
    assert sorted(ours.list_modules()) == sorted(model.list_modules())


@pytest.fixture
def monkeypatch_plan() -> Iterator[Callable[[str], None]]:
    original = sqlite_plans.choose_plan

    def force(plan: str) -> None:
        if plan == "chosen":
            sqlite_plans.choose_plan = original
        else:
            sqlite_plans.choose_plan = lambda matching, functions, limit: (
                "module" if matching >= functions else plan
            )

    yield force
    sqlite_plans.choose_plan = original


def test_scan_falls_back_to_merge_when_matches_are_old(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = [trace("m", qualname, t) for qualname in ("rare", "rarer") for t in TYPES[:3]]
    store.add(old)
    store.add([CallTrace(func_named("m", f"common{i % 3}"), {f"a{i}": int}) for i in range(3000)])
    assert sqlite_plans.choose_plan(2, 5, 3) == "scan"  # 2 of 5 functions look dense enough
    merged: List[int] = []
    merge = sqlite_plans.merge

    def counting_merge(*args: Any) -> Any:
        merged.append(1)
        return merge(*args)

    monkeypatch.setattr(sqlite_plans, "merge", counting_merge)
    found = store.filter("m", "rar", 3)
    assert tuples(found) == [CallTraceRow.from_trace(t).as_tuple() for t in reversed(old[-3:])]
    assert merged == [1]  # the scan gave up within its budget


def test_prefix_upper_bound_is_the_least_upper_bound() -> None:
    bound = sqlite_plans.prefix_upper_bound
    assert bound("") is None
    assert bound("ab") == "ac"
    assert bound("a\U0010ffff") == "b"
    assert bound("\U0010ffff\U0010ffff") is None
    assert bound("a\ud7ff") == "a\ue000"


_TEXT = st.text(
    alphabet=st.sampled_from(
        ["a", "b", "\x00", "\x01", "\ud7ff", "\ue000", "\uffff", "\U00010000", "\U0010ffff"]
    ),
    max_size=4,
)


@given(prefix=_TEXT, text=_TEXT)
def test_the_prefix_range_is_exactly_startswith(prefix: str, text: str) -> None:
    upper = sqlite_plans.prefix_upper_bound(prefix)
    in_range = prefix <= text and (upper is None or text < upper)
    assert in_range == text.startswith(prefix)


@given(st.text(), st.text())
def test_escape_keeps_equality_and_prefixes_and_round_trips(text: str, prefix: str) -> None:
    assert unescape(escape(text)) == text
    assert escape(text).startswith(escape(prefix)) == text.startswith(prefix)
    escaped = escape(text)
    escaped.encode("utf-8")  # storable


def test_names_with_lone_surrogates_and_escape_characters_round_trip(store: SQLiteStore) -> None:
    name = "weird\ud800.mod\x01"
    module = types.ModuleType(name)

    def f(x: int) -> int:
        return x

    f.__module__ = name
    f.__qualname__ = "f\udfff"
    module.__dict__["f\udfff"] = f
    sys.modules[name] = module
    try:
        store.add([CallTrace(f, {"x": int}, int)])
        (row,) = store.filter(name, "f\udfff")
        assert row.to_trace() == CallTrace(f, {"x": int}, int)
        assert store.list_modules() == [name]
    finally:
        del sys.modules[name]


# -- add semantics ------------------------------------------------------------------------


def test_a_re_added_trace_moves_to_the_front(store: SQLiteStore) -> None:
    a, b, c = (trace("m", q) for q in "abc")
    store.add([a, b, c])
    store.add([a])
    assert [r.qualname for r in rows(store.filter("m"))] == ["a", "c", "b"]
    store.add([b, c, b])
    assert [r.qualname for r in rows(store.filter("m"))] == ["b", "c", "a"]


def test_an_add_whose_iterable_fails_stores_nothing(store: SQLiteStore) -> None:
    def failing() -> Iterator[CallTrace]:
        yield trace("m", "a")
        raise RuntimeError("tracer broke")

    with pytest.raises(RuntimeError):
        store.add(failing())
    assert store.filter("m") == []


def test_an_add_that_fails_in_sqlite_stores_nothing(path: str, store: SQLiteStore) -> None:
    store.add([trace("m", "a")])
    conn = sqlite3.connect(path)
    conn.execute(
        f"CREATE TRIGGER refuse BEFORE INSERT ON {TABLE}__ts_recent WHEN NEW.func_id > 1 "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    conn.commit()
    conn.close()
    with pytest.raises(sqlite3.IntegrityError, match="refused"):
        store.add([trace("m", "b"), trace("m", "a", str)])
    assert [r.qualname for r in rows(store.filter("m"))] == ["a"]


@pytest.mark.parametrize("tables", [("recent",), ("recent", "traces")])
def test_rows_deleted_behind_the_stores_back_are_written_again(
    path: str, store: SQLiteStore, tables: Tuple[str, ...]
) -> None:
    t, other = trace("m", "a"), trace("m", "b")
    store.add([t, other])
    conn = sqlite3.connect(path)
    ((oldest,),) = conn.execute(f"SELECT trace_id FROM {TABLE}__ts_recent ORDER BY seq LIMIT 1").fetchall()
    conn.execute(f"DELETE FROM {TABLE}__ts_recent WHERE trace_id = ?", (oldest,))
    if "traces" in tables:
        conn.execute(f"DELETE FROM {TABLE}__ts_traces WHERE id = ?", (oldest,))
    conn.commit()
    conn.close()
    store.add([t, other])  # the store remembers both ids; it must notice that one row is gone
    assert tuples(store.filter("m")) == [CallTraceRow.from_trace(x).as_tuple() for x in (other, t)]


def test_negative_limit_is_a_value_error(store: SQLiteStore) -> None:
    with pytest.raises(ValueError):
        store.filter("m", None, -1)
    assert store.filter("m", None, 0) == []


# -- threads and processes ------------------------------------------------------------------


def test_threads_share_a_store(store: SQLiteStore) -> None:
    funcs = functions()
    errors: List[BaseException] = []

    def work(index: int) -> None:
        try:
            for i in range(40):
                store.add([CallTrace(funcs[i], {f"t{index}_{i}": int})])
                store.filter(funcs[i].__module__, None, 10)
                store.list_modules()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = sum(len(store.filter(m, None, 10_000)) for m in store.list_modules())
    assert stored == 6 * 40


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_opens_its_own_connection(path: str, store: SQLiteStore) -> None:
    store.add([trace("m", "parent")])
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child process
        code = 1
        try:
            store.add([trace("m", "child")])
            code = 0 if len(store.filter("m")) == 2 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert [r.qualname for r in rows(store.filter("m"))] == ["child", "parent"]
