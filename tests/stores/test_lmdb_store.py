"""LMDBStore: its connection strings, key layout, long names, map growth, scan costs and fork safety.

The conformance kit's run over LMDBStore is ``TestLMDBConformance`` at the end.
"""

from __future__ import annotations

import os
import pathlib
import tempfile
import threading
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import lmdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import CallTraceStoreTests
from reference_stores.lmdb import LMDBStore
from reference_stores.lmdb.config import DEFAULT_MAP_SIZE, LMDBOptions, parse_connection_string
from reference_stores.lmdb.keys import NAME_KEY_MAX, text_bytes
from reference_stores.memory import InMemoryStore
from tests.support.rows import func_named, trace, tuples
from tests.support.workload import distinct_traces
from tracestore import (
    CallTrace,
    CallTraceRow,
    MalformedRowError,
    StoreConfigError,
    TraceStoreError,
)


@pytest.fixture
def store(tmp_path: pathlib.Path) -> Iterator[LMDBStore]:
    made = LMDBStore.make_store(f"{tmp_path}/traces.lmdb?sync=false")
    yield made
    made.close()


# -- behaviour against the in-memory reference (S2-S6, S15), adversarial names --------------

LONG = "x" * (NAME_KEY_MAX + 100)
MODULES = ["a.b", "a.bc", "a.b.c", "A.B", "a_b", "a%b", "m\x00n", "é", "e\u0301", "\ud800s", LONG, LONG + "y"]
QUALNAMES = [
    "f",
    "F",
    "f.g",
    "fo",
    "foo",
    "Foo.bar",
    "%_*?[\\'\"",
    "a\x00b",
    "a",
    "é.x",
    "ê",
    "\U0001f600",
    "",
    "q" * NAME_KEY_MAX,
    "q" * (NAME_KEY_MAX + 1),
    "q" * 700 + "a",
    "q" * 700 + "b",
]
TYPES: List[type] = [int, str, bytes, float]


def _prefixes() -> st.SearchStrategy[Optional[str]]:
    cut = st.tuples(st.sampled_from(QUALNAMES), st.integers(0, 800)).map(lambda pair: pair[0][: pair[1]])
    return st.one_of(st.none(), cut, st.sampled_from(["%", "_", "q" * 450, "q" * 701, "\ud83d", "e"]))


_ENTRY = st.tuples(st.sampled_from(MODULES), st.sampled_from(QUALNAMES), st.sampled_from(TYPES))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batches=st.lists(st.lists(_ENTRY, max_size=8), max_size=5),
    queries=st.lists(
        st.tuples(st.sampled_from(MODULES), _prefixes(), st.integers(0, 6)), min_size=1, max_size=12
    ),
)
def test_answers_like_the_in_memory_store(
    batches: List[List[Tuple[str, str, type]]], queries: List[Tuple[str, Optional[str], int]]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = LMDBStore.make_store(f"{directory}/t.lmdb?sync=false")
        reference = InMemoryStore()
        for batch in batches:
            traces = [trace(module, qualname, arg) for module, qualname, arg in batch]
            store.add(traces)
            reference.add(traces)
        for module, prefix, limit in queries:
            assert tuples(store.filter(module, prefix, limit)) == tuples(
                reference.filter(module, prefix, limit)
            )
            assert tuples(store.filter(module, prefix)) == tuples(reference.filter(module, prefix))
        assert sorted(store.list_modules()) == sorted(reference.list_modules())
        store.close()


def test_a_trace_added_again_moves_to_the_front(store: LMDBStore) -> None:
    first, second, third = (trace("m", name) for name in ("one", "two", "three"))
    store.add([first, second, third])
    store.add([first])
    assert [row[1] for row in tuples(store.filter("m"))] == ["one", "three", "two"]
    store.add([second, third, second])
    assert [row[1] for row in tuples(store.filter("m"))] == ["two", "three", "one"]
    assert [row[1] for row in tuples(store.filter("m", "t", 1))] == ["two"]


def test_negative_limit_raises_value_error(store: LMDBStore) -> None:
    with pytest.raises(ValueError):
        store.filter("m", None, -1)


def test_utf8_byte_prefix_is_str_startswith(store: LMDBStore) -> None:
    names = ["é", "ê", "éa", "e", "e\u0301", "\U0001f600", "\U0001f601", "\ud800", "\ud800\udc00", "ü.x", "ü"]
    store.add([trace("u", name) for name in names])
    candidates = {name[:cut] for name in names for cut in range(len(name) + 1)} | {chr(0xD83D), chr(0xDC00)}
    for prefix in sorted(candidates):
        expected = sorted(name for name in names if name.startswith(prefix))
        assert sorted(row[1] for row in tuples(store.filter("u", prefix))) == expected, prefix


# -- long names and LMDB's key-size limit -------------------------------------------------------


def test_names_far_beyond_the_key_size_limit(store: LMDBStore) -> None:
    module = "m." + "é" * 3000
    shared_head = "C." + "q" * 2000
    names = [shared_head + "a", shared_head + "b", shared_head, "C.short"]
    store.add([trace(module, name) for name in names])
    store.add([trace(module + "x", shared_head + "a")])
    assert len(text_bytes(module)) > 511 and len(text_bytes(shared_head)) > 511
    assert [row[1] for row in tuples(store.filter(module))] == names[::-1]
    assert [row[1] for row in tuples(store.filter(module, shared_head + "a"))] == [shared_head + "a"]
    assert sorted(row[1] for row in tuples(store.filter(module, shared_head))) == sorted(names[:3])
    assert [row[1] for row in tuples(store.filter(module, "C.s"))] == ["C.short"]
    assert [row[1] for row in tuples(store.filter(module + "x"))] == [shared_head + "a"]
    assert store.filter(module[:-1]) == []
    assert sorted(store.list_modules()) == sorted([module, module + "x"])


def test_huge_json_fields(store: LMDBStore) -> None:
    arg_types: Dict[str, type] = {f"argument_{i}_" + "z" * 50: int for i in range(200)}
    big = CallTrace(func_named("m", "f"), arg_types, str)
    store.add([big])
    (row,) = tuples(store.filter("m"))
    assert row == CallTraceRow.from_trace(big).as_tuple()


# -- map growth ---------------------------------------------------------------------------------


def test_a_tiny_map_grows_instead_of_failing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "tiny.lmdb"
    store = LMDBStore.make_store(f"{path}?map_size=65536&sync=false")
    traces = distinct_traces(6000)
    for start in range(0, 3000, 300):
        store.add(traces[start : start + 300])
    store.add(traces[3000:])  # one batch far larger than the whole map
    for module in store.list_modules():
        found = tuples(store.filter(module, None, 10_000))
        assert len(found) == 300  # 6000 traces over 20 modules
    assert (path / "data.mdb").stat().st_size > 65536
    store.close()
    reopened = LMDBStore.make_store(f"{path}?map_size=65536")
    assert sum(len(reopened.filter(m, None, 10_000)) for m in reopened.list_modules()) == 6000
    reopened.close()


def test_threads_write_and_read_while_the_map_grows(tmp_path: pathlib.Path) -> None:
    store = LMDBStore.make_store(f"{tmp_path}/t.lmdb?map_size=65536&sync=false")
    traces = distinct_traces(4000)
    errors: List[BaseException] = []
    reads: List[int] = []
    done = threading.Event()

    def write(part: List[CallTrace]) -> None:
        try:
            for start in range(0, len(part), 50):
                store.add(part[start : start + 50])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        try:
            while not done.wait(0.001):  # a pause: spinning readers would starve writers of the GIL
                for module in store.list_modules():
                    store.filter(module, "Handler", 100)
                    reads.append(1)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(traces[i::4],)) for i in range(4)]
    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in writers + readers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    for thread in readers:
        thread.join()
    assert errors == []
    assert reads, "the readers never ran alongside the writers"
    assert sum(len(store.filter(m, None, 10_000)) for m in store.list_modules()) == 4000
    store.close()


# -- connection strings (S14) -------------------------------------------------------------------


def test_connection_string_options() -> None:
    assert parse_connection_string("/x/t.lmdb") == LMDBOptions("/x/t.lmdb", DEFAULT_MAP_SIZE, True, True)
    assert parse_connection_string("/x/t.lmdb?map_size=1048576&subdir=false&sync=0") == LMDBOptions(
        "/x/t.lmdb", 1048576, False, False
    )
    assert parse_connection_string("/x/a?b?") == LMDBOptions("/x/a?b")
    assert parse_connection_string("rel/t.lmdb?sync=yes").sync is True


def _listing(directory: pathlib.Path) -> List[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def _regular_file(directory: pathlib.Path) -> str:
    (directory / "file.txt").write_text("hello")
    return str(directory / "file.txt")


def _non_lmdb_data_file(directory: pathlib.Path) -> str:
    (directory / "data.bin").write_bytes(b"\x01" * 20000)
    return f"{directory}/data.bin?subdir=false"


def _non_lmdb_data_mdb(directory: pathlib.Path) -> str:
    (directory / "env").mkdir()
    (directory / "env" / "data.mdb").write_bytes(b"junk" * 4096)
    return f"{directory}/env"


def _foreign_environment(directory: pathlib.Path) -> str:
    env = lmdb.open(str(directory / "foreign"), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b"someone", b"else's data")
    env.close()
    return str(directory / "foreign")


BAD_STRINGS: List[Tuple[str, Callable[[pathlib.Path], str], str]] = [
    ("regular file", _regular_file, "is a file"),
    ("missing parent", lambda d: str(d / "missing" / "t.lmdb"), "does not exist"),
    ("parent is a file", lambda d: _regular_file(d) + "/t.lmdb", "is not a directory"),
    ("empty", lambda d: "", "no path"),
    ("NUL in path", lambda d: f"{d}/a\x00b", "NUL"),
    ("bad map_size", lambda d: f"{d}/t.lmdb?map_size=lots", "map_size"),
    ("tiny map_size", lambda d: f"{d}/t.lmdb?map_size=10", "map_size"),
    ("unknown option", lambda d: f"{d}/t.lmdb?colour=blue", "unknown option"),
    ("bad flag", lambda d: f"{d}/t.lmdb?subdir=maybe", "subdir"),
    ("option without value", lambda d: f"{d}/t.lmdb?sync", "NAME=VALUE"),
    ("repeated option", lambda d: f"{d}/t.lmdb?sync=1&sync=0", "twice"),
    ("question mark in path", lambda d: f"{d}/what?.lmdb", "NAME=VALUE"),
    ("non-LMDB data file", _non_lmdb_data_file, "not an LMDB"),
    ("non-LMDB data.mdb", _non_lmdb_data_mdb, "not an LMDB"),
    ("directory with subdir=false", lambda d: f"{d}?subdir=false", "is a directory"),
    ("another program's environment", _foreign_environment, "some other program"),
]


@pytest.mark.parametrize("make, reason", [case[1:] for case in BAD_STRINGS], ids=[c[0] for c in BAD_STRINGS])
def test_S14_bad_connection_strings_fail_clearly_and_leave_nothing(
    tmp_path: pathlib.Path, make: Callable[[pathlib.Path], str], reason: str
) -> None:
    connection_string = make(tmp_path)
    before = _listing(tmp_path)
    with pytest.raises(StoreConfigError) as raised:
        LMDBStore.make_store(connection_string)
    assert repr(connection_string) in str(raised.value)
    assert reason in str(raised.value)
    assert _listing(tmp_path) == before


def test_a_new_environment_directory_is_created(tmp_path: pathlib.Path) -> None:
    store = LMDBStore.make_store(str(tmp_path / "new"))
    assert {p.name for p in (tmp_path / "new").iterdir()} == {"data.mdb", "lock.mdb"}
    store.close()
    file_store = LMDBStore.make_store(f"{tmp_path}/single.mdb?subdir=false")
    file_store.add([trace("m", "f")])
    assert (tmp_path / "single.mdb").is_file() and (tmp_path / "single.mdb-lock").is_file()
    file_store.close()


# -- scan costs: O(limit), whatever the table size -----------------------------------------------


def _loaded(directory: str, count: int) -> LMDBStore:
    store = LMDBStore.make_store(f"{directory}?sync=false")
    traces = distinct_traces(count, module_index=0)
    module = traces[0].func.__module__
    store.add([trace(module, "Rare.method", ret) for ret in (int, str, bytes)])  # oldest, and rare
    for start in range(0, count, 10_000):
        store.add(traces[start : start + 10_000])
    return store


def test_filter_visits_entries_in_proportion_to_limit(tmp_path: pathlib.Path) -> None:
    small, large = _loaded(str(tmp_path / "small"), 2_000), _loaded(str(tmp_path / "large"), 40_000)
    module = distinct_traces(1, module_index=0)[0].func.__module__
    costs = {}
    for name, store in (("small", small), ("large", large)):
        for prefix, limit in ((None, 10), (None, 500), ("Handler2.", 50), ("Handler", 200), ("Rare", 100)):
            found = store.filter(module, prefix, limit)
            expected = 3 if prefix == "Rare" else limit
            assert len(found) == expected
            costs[name, prefix, limit] = store.last_filter_steps
    for (_, prefix, limit), steps in costs.items():
        if prefix is None:
            assert steps <= limit + 2
        elif prefix == "Rare":
            assert steps <= 15  # a few positionings, 3 entries, 3 fetches
        else:  # k <= 15 matching qualnames: k heads, the merge, and one fetch per result
            assert steps <= 15 * 3 + 4 * limit
        assert steps <= 1.25 * costs["small", prefix, limit], "the cost grew with the table"
    small.close()
    large.close()


# -- corrupt values (S9) -------------------------------------------------------------------------


def test_a_value_that_is_not_a_row_spoils_only_its_own_thunk(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "t.lmdb"
    store = LMDBStore.make_store(str(path))
    good = distinct_traces(40, module_index=3)
    store.add(good)
    module = good[0].func.__module__
    store.close()
    env = lmdb.open(str(path), max_dbs=16)
    recent = env.open_db(b"recent")
    with env.begin(write=True) as txn:
        cursor = txn.cursor(db=recent)
        assert cursor.last()
        txn.put(cursor.key(), b"not four ids", db=recent)
    env.close()
    store = LMDBStore.make_store(str(path))
    found = store.filter(module)
    assert len(found) == 40
    with pytest.raises(MalformedRowError, match="cannot be read"):
        found[0].to_trace()
    assert [thunk.to_trace() for thunk in found[1:]] == good[-2::-1]
    store.close()


# -- processes and fork ------------------------------------------------------------------------


def test_a_forked_child_writes_through_the_inherited_store(tmp_path: pathlib.Path) -> None:
    store = LMDBStore.make_store(str(tmp_path / "t.lmdb"))
    store.add([trace("m", "parent.before")])
    reader = store.filter("m")  # the parent has had a read transaction
    assert len(reader) == 1
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        try:
            store.add([trace("m", "child.inherited")])
            LMDBStore.make_store(str(tmp_path / "t.lmdb")).add([trace("m", "child.reopened")])
            os._exit(0 if len(store.filter("m")) == 3 else 2)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    store.add([trace("m", "parent.after")])
    names = [row[1] for row in tuples(store.filter("m"))]
    assert names == ["parent.after", "child.reopened", "child.inherited", "parent.before"]
    store.close()


def test_closed_store_refuses_work_and_the_path_reopens(tmp_path: pathlib.Path) -> None:
    store = LMDBStore.make_store(str(tmp_path / "t.lmdb"))
    store.add([trace("m", "f")])
    store.close()
    with pytest.raises(TraceStoreError, match="closed"):
        store.filter("m")
    again = LMDBStore.make_store(str(tmp_path / "t.lmdb"))
    assert len(again.filter("m")) == 1
    again.close()


# -- the conformance kit ---------------------------------------------------------------------------


class TestLMDBConformance(CallTraceStoreTests[LMDBStore]):
    """The whole kit, durability (S10) and writer processes (S11) included, on default options."""

    store_class = LMDBStore
    connection_template = "{directory}/traces.lmdb"
