"""MySQLStore against the real server: connection strings, byte-exact matching, pool, recovery, the kit."""

from __future__ import annotations

import os
import random
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence

import pymysql
import pytest

from conformance import CallTraceStoreTests
from conformance.report import format_text
from conformance.runner import run_kit
from reference_stores.mysql import MySQLStore
from reference_stores.mysql.config import mask_password, parse_connection_string
from reference_stores.mysql.rows import encode, module_key, prefix_upper_bound
from reference_stores.mysql.sql import QUALNAME_INDEX_BYTES, chunks, statements
from tests.support.mysql import (
    DEFAULT_URL,
    TableFactory,
    admin_connect,
    query,
    require_server,
    run_tables,
    server_url,
    with_params,
)
from tests.support.rows import func_named, trace
from tracestore import CallTrace, CallTraceRow, CallTraceThunk, StoreConfigError, TraceStoreError


@pytest.fixture(scope="module")
def tables() -> Iterator[TableFactory]:
    yield from run_tables("store")


@pytest.fixture
def store(tables: TableFactory) -> Iterator[MySQLStore]:
    with MySQLStore.make_store(tables.connection_string()) as made:
        yield made


def as_rows(found: List[CallTraceThunk]) -> List[CallTraceRow]:
    assert all(isinstance(row, CallTraceRow) for row in found)
    return [row for row in found if isinstance(row, CallTraceRow)]


def qualnames(found: List[CallTraceThunk]) -> List[str]:
    return [row.qualname for row in as_rows(found)]


def local_function(a: int) -> str:
    return str(a)


class Local:
    def method(self) -> None:
        pass


def processlist_ids() -> List[int]:
    return [int(pid) for (pid,) in query("SELECT id FROM information_schema.processlist")]


# -- connection strings (S14) ------------------------------------------------------------------


def test_S14_connection_string_parts() -> None:
    config = parse_connection_string(
        "mysql://me:p%40ss@db.example:3307/app?table=Traces_1&pool_size=2&connect_timeout=3&timeout=9"
    )
    assert (config.host, config.port, config.user, config.password) == ("db.example", 3307, "me", "p@ss")
    assert (config.database, config.table, config.pool_size) == ("app", "Traces_1", 2)
    assert (config.connect_timeout, config.timeout) == (3, 9)
    assert config.display == (
        "mysql://me:***@db.example:3307/app?table=Traces_1&pool_size=2&connect_timeout=3&timeout=9"
    )
    assert "p@ss" not in repr(config) and "p%40ss" not in repr(config)


def test_S14_defaults() -> None:
    config = parse_connection_string("mariadb://h/db")
    assert (config.port, config.user, config.password, config.table) == (3306, None, None, "call_traces")
    assert (config.pool_size, config.connect_timeout, config.timeout) == (4, 5, 120)


def test_S14_passwords_are_masked() -> None:
    assert mask_password("mysql://u:s3cret@h/db") == "mysql://u:***@h/db"
    with pytest.raises(StoreConfigError) as info:
        MySQLStore.make_store("mysql://u:s3cret@127.0.0.1:1/db")
    assert "s3cret" not in str(info.value)
    with pytest.raises(StoreConfigError) as info:
        MySQLStore.make_store("mysql://u:s3cret@h/db?table=a-b")
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize(
    ("connection_string", "why"),
    [
        ("/tmp/traces.sqlite3", "not a MySQL URL"),
        ("postgresql://h/db", "not a MySQL URL"),
        ("mysql://h", "no database name"),
        ("mysql://h/", "no database name"),
        ("mysql:///db", "no host"),
        ("mysql://h:notaport/db", "not a valid URL"),
        ("mysql://h/db?table=1abc", "table='1abc' is not a valid name"),
        ("mysql://h/db?table=a-b", "is not a valid name"),
        ("mysql://h/db?table=x%60y", "table='x`y' is not a valid name"),
        ("mysql://h/db?table=t%3B%20DROP%20TABLE%20x", "is not a valid name"),
        ("mysql://h/db?table=" + "a" * 65, "at most 64 characters"),
        ("mysql://h/db?table=", "is not a valid name"),
        ("mysql://h/db?table=a&table=b", "given twice"),
        ("mysql://h/db?tabel=a", "unknown parameter 'tabel'"),
        ("mysql://h/db?pool_size=0", "pool_size='0' is not a whole number from 1 to 64"),
        ("mysql://h/db?timeout=x", "timeout='x' is not a whole number"),
    ],
)
def test_S14_bad_connection_strings(connection_string: str, why: str) -> None:
    with pytest.raises(StoreConfigError) as info:
        MySQLStore.make_store(connection_string)
    assert why in str(info.value)
    assert repr(mask_password(connection_string)) in str(info.value)


def test_S14_a_wrong_password_is_refused_without_showing_it(
    tables: TableFactory, caplog: pytest.LogCaptureFixture
) -> None:
    config = parse_connection_string(server_url())
    url = f"mysql://{config.user or 'root'}:s3cret-pw@{config.host}:{config.port}/{config.database}"
    with pytest.raises(StoreConfigError, match="cannot connect: \\(1045\\) Access denied") as info:
        MySQLStore.make_store(url)
    with pytest.raises(StoreConfigError, match="unknown parameter 'password'") as second:
        MySQLStore.make_store(url + "?password=other-pw")
    for text in (str(info.value), str(second.value), caplog.text):
        assert "s3cret-pw" not in text and "other-pw" not in text


def test_S14_unreachable_server_fails_fast() -> None:
    start = time.monotonic()
    with pytest.raises(StoreConfigError, match=r"'mysql://root@127.0.0.1:1/test': cannot connect"):
        MySQLStore.make_store("mysql://root@127.0.0.1:1/test")
    assert time.monotonic() - start < 10


def test_S14_unknown_database_is_named(tables: TableFactory) -> None:
    config = parse_connection_string(server_url())
    url = server_url().replace(f"/{config.database}", "/no_such_db_tracestore")
    with pytest.raises(StoreConfigError, match="Unknown database 'no_such_db_tracestore'"):
        MySQLStore.make_store(url)


def test_S14_foreign_table_is_refused_and_left_alone(tables: TableFactory) -> None:
    name = tables.new_name()
    query(f"CREATE TABLE `{name}` (id int)")
    with pytest.raises(StoreConfigError, match=r"cannot use the table.*Unknown column"):
        MySQLStore.make_store(tables.connection_string(name))
    columns = query(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = DATABASE() AND table_name = %s",
        (name,),
    )
    assert columns == [("id",)]


def test_S14_example_connection_string_works(tables: TableFactory) -> None:
    if server_url() != DEFAULT_URL:
        pytest.skip(
            f"the example names the default server {DEFAULT_URL}; TRACESTORE_MYSQL_URL points elsewhere"
        )
    unique = secrets.token_hex(6)
    url = MySQLStore.example_connection_string.format(unique=unique)
    try:
        with MySQLStore.make_store(url) as made:
            made.add([CallTrace(local_function, {"a": int}, str)])
            assert made.filter(__name__) == [
                CallTraceRow.from_trace(CallTrace(local_function, {"a": int}, str))
            ]
    finally:
        MySQLStore.drop_store(url)
    assert query("SHOW TABLES LIKE %s", (f"ts_{unique}",)) == []


# -- creation and removal ------------------------------------------------------------------------


def test_creation_is_idempotent_and_tables_are_separate(tables: TableFactory) -> None:
    one_url, two_url = tables.connection_string(), tables.connection_string()
    with MySQLStore.make_store(one_url) as one, MySQLStore.make_store(two_url) as two:
        with MySQLStore.make_store(one_url) as again:
            one.add([CallTrace(local_function, {"a": int}, str)])
            assert len(again.filter(__name__)) == 1
            assert two.filter(__name__) == []


def test_drop_store_removes_the_table(tables: TableFactory) -> None:
    name = tables.new_name()
    url = tables.connection_string(name)
    with MySQLStore.make_store(url) as made:
        made.add([CallTrace(local_function, {"a": int}, str)])
    assert name in tables.existing()
    MySQLStore.drop_store(url)
    assert name not in tables.existing()
    MySQLStore.drop_store(url)  # dropping what is gone is no error


def test_the_kit_runner_drops_every_store_it_made(tables: TableFactory) -> None:
    template = with_params(server_url(), table=tables.prefix + "kit_{unique}")
    report = run_kit(MySQLStore, connection_string=template, profile="dev", rules=["S1", "S10", "S11"])
    assert report.ok, format_text(report, verbose=True)
    assert [name for name in tables.existing() if "kit_" in name] == []


def test_columns_are_binary_whatever_the_default_collation(store: MySQLStore) -> None:
    found = query(
        "SELECT column_name, data_type, collation_name FROM information_schema.columns"
        " WHERE table_schema = DATABASE() AND table_name = %s AND column_name IN ('module', 'qualname')",
        (store._config.table,),
    )
    assert sorted(found) == [("module", "longblob", None), ("qualname", "longblob", None)]


# -- semantics -----------------------------------------------------------------------------------


def test_S1_S15_round_trip_most_recent_first(store: MySQLStore) -> None:
    first = CallTrace(local_function, {"a": int}, str)
    second = CallTrace(Local.method, {"self": Local}, type(None))
    store.add([first, second])
    assert [row.to_trace() for row in store.filter(__name__)] == [second, first]


def test_S6_readded_trace_moves_to_front_and_is_listed_once(store: MySQLStore) -> None:
    a, b, c = trace("m", "a"), trace("m", "b"), trace("m", "c")
    store.add([a, b, c])
    store.add([a])
    assert qualnames(store.filter("m")) == ["a", "c", "b"]
    assert qualnames(store.filter("m", limit=2)) == ["a", "c"]


def test_S6_repeats_inside_one_batch_count_at_the_last_place(store: MySQLStore) -> None:
    a, b, c = trace("m", "a"), trace("m", "b"), trace("m", "c")
    store.add([a, b, a, c, b, a, a])
    assert qualnames(store.filter("m")) == ["a", "b", "c"]


def test_S6_null_return_and_yield_are_distinct_from_values(store: MySQLStore) -> None:
    func = func_named("m", "f")
    store.add(
        [
            CallTrace(func, {"x": int}, None, None),
            CallTrace(func, {"x": int}, type(None), None),
            CallTrace(func, {"x": int}, None, int),
            CallTrace(func, {"x": int}, None, None),
        ]
    )
    assert [(row.return_type, row.yield_type) for row in as_rows(store.filter("m"))] == [
        (None, None),
        (None, '{"module": "builtins", "qualname": "int"}'),
        ('{"module": "builtins", "qualname": "NoneType"}', None),
    ]


def test_S5_limit_takes_the_most_recent_across_batches(store: MySQLStore) -> None:
    for start in range(0, 30, 10):
        store.add([trace("m", f"f{i:02d}") for i in range(start, start + 10)])
    assert qualnames(store.filter("m", limit=5)) == ["f29", "f28", "f27", "f26", "f25"]
    assert qualnames(store.filter("m", "f1", limit=3)) == ["f19", "f18", "f17"]


def test_S4_limits(store: MySQLStore) -> None:
    store.add([trace("m", "a")])
    assert store.filter("m", limit=0) == []
    with pytest.raises(ValueError):
        store.filter("m", limit=-1)
    assert len(store.filter("m", limit=1)) == 1
    assert len(store.filter("m", limit=2**63)) == 1
    assert len(store.filter("m", "a", limit=2**80)) == 1


def test_S8_empty(store: MySQLStore) -> None:
    store.add([])
    assert store.filter("nothing") == [] and store.filter("nothing", "x") == []
    assert store.list_modules() == []


@pytest.mark.parametrize(
    "weird",
    [
        "%",
        "_",
        "\\",
        "'",
        '"',
        "`",
        "*",
        "?",
        "[a]",
        "a%",
        "a_b",
        "é",
        "É",
        "e\u0301",
        "\u00df",
        "ss",
        "日本",
        "🐍",
        "\x00",
        " ",
        "a ",
        "a\t",
        "A",
    ],
)
def test_S2_S3_case_space_accents_and_metacharacters_are_exact(store: MySQLStore, weird: str) -> None:
    """The traps of utf8mb4_general_ci (case, accents, ß = ss) and of PAD SPACE (trailing blanks)."""
    names = [
        weird,
        f"{weird}x",
        f"x{weird}",
        "plain",
        "a",
        "a ",
        "ab",
        "Ab",
        "A%b",
        "a_b",
        "é",
        "e\u0301",
        "A",
    ]
    modules = (weird, "plain")
    store.add([trace(module, f"{module}.{q}") for module in modules for q in names])
    for module in (*modules, f"{weird}x", weird.upper(), weird + " ", weird.strip() or "x"):
        for prefix in ("", f"{module}.", f"{module}.{weird}", f"{module}.a", f"{module}.A", f"{module}.a "):
            expected = sorted(
                {f"{module}.{q}" for q in names if f"{module}.{q}".startswith(prefix)}
                if module in modules
                else set()
            )
            assert sorted(qualnames(store.filter(module, prefix))) == expected, (module, prefix)


def test_S3_surrogates_and_the_last_code_point(store: MySQLStore) -> None:
    top = "\U0010ffff"
    names = ["\ud800", "\ud800x", "\udfff", "\ud7ff", "\ue000", top, top + top, top + "a", "a" + top, "b"]
    store.add([trace("m", q) for q in names])
    for prefix in ["\ud800", "\ud7ff", top, top + top, "a", "a" + top, "\ue000", "\udfff"]:
        assert sorted(qualnames(store.filter("m", prefix))) == sorted(
            q for q in names if q.startswith(prefix)
        )


def test_S2_S3_names_longer_than_any_index(store: MySQLStore) -> None:
    rng = random.Random(1)
    noise = "".join(chr(rng.randrange(0x100, 0x3000)) for _ in range(3000))  # ~8 KB of UTF-8
    base = "m" * 300
    q = "q" * QUALNAME_INDEX_BYTES
    modules = [base, base + "a", noise, noise + "x", "short"]
    names = [q, q + "1", q + "12", noise, noise + "y", "q", "x" * 100_000]
    store.add([trace(module, name) for module in modules for name in names])
    assert sorted(store.list_modules()) == sorted(modules)
    for module in [*modules, base[:-1], base + "c"]:
        for prefix in ["", "q", q, q + "1", q[:-1], noise[:500], noise, "x" * 100_000, "x" * 100_001]:
            expected = sorted(name for name in names if name.startswith(prefix)) if module in modules else []
            assert sorted(qualnames(store.filter(module, prefix))) == expected, (module[:5], len(prefix))


def test_prefix_bounds_and_statement_chunks() -> None:
    assert prefix_upper_bound(b"ab") == b"ac"
    assert prefix_upper_bound(encode("a\U0010ffff")) == b"a\xf4\x8f\xbf\xc0"
    assert chunks((1, 1, 1, 1, 1), 2, 100) == ((0, 2), (2, 4), (4, 5))
    assert chunks((5, 50, 60, 1), 10, 100) == ((0, 2), (2, 4))
    assert chunks((500, 1), 10, 100) == ((0, 1), (1, 2))
    assert chunks((), 10, 100) == ()


def test_S12_list_modules_each_once(store: MySQLStore) -> None:
    store.add(
        [trace(m, q) for m in ("b", "a", "A", "a ", "a.b", "\x00z", "é", "e\u0301") for q in ("f", "g")]
    )
    store.add([trace("a", "f")])
    assert sorted(store.list_modules()) == sorted(["b", "a", "A", "a ", "a.b", "\x00z", "é", "e\u0301"])


def test_S7_bad_traces_are_skipped(store: MySQLStore, caplog: pytest.LogCaptureFixture) -> None:
    bad = CallTrace(local_function, {"a": 42}, str)  # type: ignore[dict-item]  # not a type: cannot encode
    good = CallTrace(local_function, {"a": int}, str)
    store.add([bad, good])
    assert store.filter(__name__) == [CallTraceRow.from_trace(good)]
    assert any(record.levelname == "ERROR" for record in caplog.records)


def test_S10_reopened_store_sees_everything(tables: TableFactory) -> None:
    url = tables.connection_string()
    with MySQLStore.make_store(url) as first:
        first.add([trace("m", f"f{i}") for i in range(5)])
        before = first.filter("m", limit=3)
    with MySQLStore.make_store(url) as again:
        assert again.filter("m", limit=3) == before


def test_large_adds_are_split_under_the_packet_and_placeholder_caps(store: MySQLStore) -> None:
    """60,000 rows (420,000 values) and 24 MB of text (above max_allowed_packet) in one add each."""
    store.add([trace("m", f"f{i}") for i in range(60_000)])
    assert len(store.filter("m", limit=100_000)) == 60_000
    (packet,) = query("SELECT @@max_allowed_packet")[0]
    big = [
        CallTraceRow("big", f"f{i}", "x" * (1 << 20), None, None) for i in range(int(packet) * 3 // (2 << 20))
    ]
    store.add_rows(big)
    assert qualnames(store.filter("big", limit=3)) == [row.qualname for row in big[::-1][:3]]
    assert len(store.filter("big")) == len(big)


def test_S11_threads(store: MySQLStore) -> None:
    errors: List[BaseException] = []

    def work(n: int) -> None:
        try:
            for batch in range(10):
                store.add([trace("m", f"t{n}.{batch}.{i}") for i in range(20)])
                store.add([trace("m", f"shared{i}") for i in range(20)])  # the same rows in every thread
                store.filter("m", f"t{n}", limit=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.filter("m", limit=10_000)) == 8 * 10 * 20 + 20


def test_the_pool_is_bounded_and_close_releases_it(tables: TableFactory) -> None:
    made = MySQLStore.make_store(with_params(tables.connection_string(), pool_size="2"))
    busy = threading.Barrier(6)

    def work() -> None:
        busy.wait()
        for i in range(20):
            made.add([trace("m", f"{threading.get_ident()}.{i}")])

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [conn.thread_id() for conn in made._pool._idle]
    assert 1 <= len(ids) <= 2
    assert set(ids) <= set(processlist_ids())
    made.close()
    assert made._pool._idle == []
    for _ in range(100):
        if not set(ids) & set(processlist_ids()):
            break
        time.sleep(0.05)
    assert not set(ids) & set(processlist_ids())
    with pytest.raises(TraceStoreError, match="is closed"):
        made.filter("m")


def test_iter_rows_streams_oldest_first_and_holds_no_pool_connection(tables: TableFactory) -> None:
    url = tables.connection_string()
    with MySQLStore.make_store(url) as made:
        made.add([trace("m", f"f{i}") for i in range(5)])
        made.add([trace("n", "g"), trace("m", "f0")])
    assert [row.qualname for row in MySQLStore.make_store(url).iter_rows()] == [
        "f1",
        "f2",
        "f3",
        "f4",
        "g",
        "f0",
    ]


# -- MonkeyType and the copy command -------------------------------------------------------------


def test_as_monkeytype_store_and_the_mysql_alias(
    tables: TableFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monkeytype.db.base import CallTraceStore as MonkeyTypeCallTraceStore
    from monkeytype.tracing import CallTrace as MonkeyTypeCallTrace

    from tracestore.monkeytype_config import TraceStoreConfig

    url = tables.connection_string()
    monkeypatch.setenv("TRACESTORE_STORE", "mysql")
    monkeypatch.setenv("TRACESTORE_CONNECTION", url)
    adapted = TraceStoreConfig().trace_store()
    assert isinstance(adapted, MonkeyTypeCallTraceStore)
    adapted.add([MonkeyTypeCallTrace(local_function, {"a": int}, str)])
    (thunk,) = adapted.filter(__name__)
    assert thunk.to_trace() == MonkeyTypeCallTrace(local_function, {"a": int}, str)
    with MySQLStore.make_store(url) as direct:
        assert direct.filter(__name__) == [
            CallTraceRow.from_trace(CallTrace(local_function, {"a": int}, str))
        ]


def run_copy(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MT_DB_PATH", "TRACESTORE_STORE")}
    command = [sys.executable, "-m", "tracestore", "copy", *argv]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_copy_command_both_ways(tables: TableFactory, tmp_path: Path) -> None:
    """mysql -> a MonkeyType-format SQLite file -> another mysql table: same rows, same order."""
    source, target = tables.connection_string(), tables.connection_string()
    names = ["a", "b", "B", "b ", "é", "e\u0301", "\x00", "🐍"]
    with MySQLStore.make_store(source) as made:
        made.add([trace(m, f"{m}.{q}") for m in ("m1", "m 1", "M1") for q in names])
        made.add([trace("m1", "m1.b")])
        expected = [row.as_tuple() for row in made.iter_rows()]
    path = tmp_path / "monkeytype.sqlite3"
    for argv in ((f"mysql={source}", f"sqlite={path}"), (f"sqlite={path}", f"mysql={target}")):
        done = run_copy(*argv)
        assert done.returncode == 0, done.stderr
        assert (
            f"{len(expected)} rows read from 3 modules (rows as they are): {len(expected)} new" in done.stderr
        )
    with MySQLStore.make_store(target) as copied:
        assert [row.as_tuple() for row in copied.iter_rows()] == expected
        assert qualnames(copied.filter("m1", limit=2)) == ["m1.b", "m1.🐍"]


# -- failures leave nothing behind: transactions, metadata locks ---------------------------------


def drop_within(table: str, seconds: int = 5) -> None:
    """DROP TABLE from another connection, failing if a metadata lock holds it longer than ``seconds``."""
    conn = admin_connect()
    try:
        conn.query(f"SET SESSION lock_wait_timeout = {seconds}")
        conn.query(f"DROP TABLE `{table}`")
    finally:
        conn.close()


@pytest.mark.parametrize("error", [pymysql.OperationalError(1366, "made up"), RuntimeError("made up")])
def test_a_failed_add_rolls_back_and_holds_no_lock(
    store: MySQLStore, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    store.add([trace("m", "kept")])
    real_write = store._write

    def failing_write(conn: Any, *args: Any) -> None:
        real_write(conn, *args)
        raise error

    monkeypatch.setattr(store, "_write", failing_write)
    with pytest.raises((TraceStoreError, RuntimeError), match="made up"):
        store.add([trace("m", "kept"), trace("m", "lost")])
    monkeypatch.undo()
    assert qualnames(store.filter("m")) == ["kept"]
    drop_within(store._config.table)


def test_a_row_above_max_allowed_packet_is_a_clear_error_and_stores_nothing(store: MySQLStore) -> None:
    (packet,) = query("SELECT @@max_allowed_packet")[0]
    rows = [
        CallTraceRow("m", "small", "{}", None, None),
        CallTraceRow("m", "huge", "x" * int(packet), None, None),
    ]
    with pytest.raises(TraceStoreError, match="add_rows failed"):
        store.add_rows(rows)
    assert store.filter("m") == []
    store.add_rows(rows[:1])
    assert qualnames(store.filter("m")) == ["small"]
    drop_within(store._config.table)


def test_a_killed_idle_connection_is_replaced(store: MySQLStore) -> None:
    store.add([trace("m", "before")])
    (old,) = [conn.thread_id() for conn in store._pool._idle]
    query(f"KILL {old}")
    store.add([trace("m", "after")])
    assert qualnames(store.filter("m")) == ["after", "before"]
    assert old not in [conn.thread_id() for conn in store._pool._idle]


def test_every_idle_connection_killed_at_once_is_replaced(tables: TableFactory) -> None:
    """As after a server restart: the retry does not pick another dead connection of the pool."""
    with MySQLStore.make_store(with_params(tables.connection_string(), pool_size="3")) as made:
        made.add([trace("m", f"{n}") for n in range(3)])
        held = [made._pool._acquire("test") for _ in range(3)]  # three at once: three connections
        for conn in held:
            made._pool._release(conn, True)
        ids = [conn.thread_id() for conn in made._pool._idle]
        assert len(ids) == 3
        for pid in ids:
            query(f"KILL {pid}")
        made.add([trace("m", "after")])
        assert sorted(qualnames(made.filter("m"))) == ["0", "1", "2", "after"]


def test_statements_name_the_table_quoted() -> None:
    sql = statements("t_1")
    assert "`t_1`" in sql.create and sql.drop == "DROP TABLE IF EXISTS `t_1`"


# -- the conformance kit -------------------------------------------------------------------------

KIT_TABLES = TableFactory("kit")
KIT_DIRECTORIES: Dict[Path, str] = {}  # the table of the store last made for each directory


@pytest.fixture(scope="module")
def kit_server() -> Iterator[None]:
    """The server is up (else skip, or fail under CI); afterwards nothing the kit made is left."""
    require_server()
    yield
    KIT_TABLES.drop_all()


@pytest.mark.usefixtures("kit_server")
class TestMySQLConformance(CallTraceStoreTests[MySQLStore]):
    """The whole kit against the real server: one fresh table per generated example."""

    distinct_results = True
    ordered_results = True

    def connection_string(self, directory: Path) -> str:
        table = KIT_DIRECTORIES.get(directory)
        if table is None:
            table = KIT_DIRECTORIES[directory] = KIT_TABLES.new_name()
        return KIT_TABLES.connection_string(table)

    def make_store(self, directory: Path) -> MySQLStore:
        # A new table every time: the kit may hand out a deleted directory's path again.
        KIT_DIRECTORIES[directory] = KIT_TABLES.new_name()
        return MySQLStore.make_store(self.connection_string(directory))

    def reopen_store(self, store: MySQLStore, directory: Path) -> MySQLStore:
        return MySQLStore.make_store(self.connection_string(directory))

    def remove_store(self, directory: Path) -> None:
        MySQLStore.drop_store(self.connection_string(directory))

    def bad_connection_strings(self, directory: Path) -> Sequence[str]:
        good = self.connection_string(directory)
        config = parse_connection_string(good)
        return [
            str(directory / "traces.db"),
            good.replace("table=", "table=0"),
            good.replace("table=", "table=a%60b"),
            good.replace(f"{config.host}:{config.port}", "127.0.0.1:1")
            if f"{config.host}:{config.port}" in good
            else "mysql://root@127.0.0.1:1/x",
            good.replace(f"/{config.database}?", "/no_such_db_tracestore?"),
        ]


def test_filter_plans_use_the_indexes(store: MySQLStore) -> None:
    store.add([trace(f"mod{m}", f"Class{c}.f{i}") for m in range(10) for c in range(20) for i in range(50)])
    table = store._config.table
    query(f"ANALYZE TABLE `{table}`")
    sql = statements(table)
    name = encode("mod3")

    def plan(statement: str, params: Any) -> List[Any]:
        return query("EXPLAIN " + statement, params)

    ((*_, key, _len, _ref, _rows, extra),) = plan(sql.recent, (module_key(name), name, 10))
    assert key == "by_module" and "filesort" not in (extra or "")
    for prefix in (b"Class7.", b"C"):
        ((*_, key, _len, _ref, _rows, extra),) = plan(
            sql.prefixed, (module_key(name), name, prefix, prefix_upper_bound(prefix), 10)
        )
        assert key in ("by_module", "by_qualname"), (prefix, key)
    assert any("index for group-by" in (row[-1] or "") for row in plan(sql.modules, None))
