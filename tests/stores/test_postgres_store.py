"""PostgresStore against the real server: connection strings, SQL semantics, index plans, recovery."""

from __future__ import annotations

import random
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Iterator, List, Sequence

import psycopg
import pytest

from conformance import CallTraceStoreTests
from conformance.report import format_text
from conformance.runner import run_kit
from reference_stores.postgres import PostgresStore
from reference_stores.postgres.config import mask_password, parse_connection_string
from reference_stores.postgres.rows import escape, prefix_upper_bound, unescape
from reference_stores.postgres.sql import INDEX_CHARS, statements
from tests.support.postgres import (
    DEFAULT_DSN,
    SchemaFactory,
    admin_connect,
    require_server,
    run_schemas,
    server_dsn,
    with_params,
)
from tests.support.rows import func_named, trace
from tracestore import CallTrace, CallTraceRow, CallTraceThunk, StoreConfigError, TraceStoreError


@pytest.fixture(scope="module")
def schemas() -> Iterator[SchemaFactory]:
    yield from run_schemas("store")


@pytest.fixture
def store(schemas: SchemaFactory) -> Iterator[PostgresStore]:
    with PostgresStore.make_store(schemas.connection_string()) as made:
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


# -- connection strings (S14) ------------------------------------------------------------------


def test_S14_connection_string_names_schema_and_table() -> None:
    config = parse_connection_string(
        "postgresql://me:pw@db.example:6543/app?sslmode=disable&tracestore_schema=Traces_1&tracestore_table=t2"
    )
    assert (config.schema, config.table) == ("Traces_1", "t2")
    params = psycopg.conninfo.conninfo_to_dict(config.conninfo)
    assert params["sslmode"] == "disable" and params["dbname"] == "app" and params["port"] == "6543"
    assert "tracestore_schema" not in config.conninfo and "tracestore_table" not in config.conninfo
    assert params["connect_timeout"] == "5" and "statement_timeout" in str(params["options"])
    assert (
        config.display
        == "postgresql://me:***@db.example:6543/app?sslmode=disable&tracestore_schema=Traces_1&tracestore_table=t2"
    )


def test_S14_defaults_and_user_settings_win() -> None:
    config = parse_connection_string(
        "postgres://h/db?connect_timeout=2&options=-c%20statement_timeout%3D1000"
    )
    assert (config.schema, config.table) == ("tracestore", "call_traces")
    params = psycopg.conninfo.conninfo_to_dict(config.conninfo)
    assert params["connect_timeout"] == "2"
    assert str(params["options"]).endswith("-c statement_timeout=1000")  # the last setting wins in PostgreSQL


def test_S14_passwords_are_masked() -> None:
    assert mask_password("postgresql://u:s3cret@h/db") == "postgresql://u:***@h/db"
    assert mask_password("postgresql://h/db?password=s3cret&x=1") == "postgresql://h/db?password=***&x=1"
    with pytest.raises(StoreConfigError) as info:
        PostgresStore.make_store("postgresql://u:s3cret@127.0.0.1:1/db?password=other")
    assert "s3cret" not in str(info.value) and "other" not in str(info.value)


@pytest.mark.parametrize(
    ("connection_string", "why"),
    [
        ("/tmp/traces.sqlite3", "not a PostgreSQL URL"),
        ("host=127.0.0.1 dbname=test", "not a PostgreSQL URL"),
        ("postgresql://h/db?tracestore_schema=1abc", "tracestore_schema='1abc' is not a valid name"),
        ("postgresql://h/db?tracestore_schema=a-b", "is not a valid name"),
        ("postgresql://h/db?tracestore_schema=" + "a" * 64, "at most 63 characters"),
        ("postgresql://h/db?tracestore_schema=", "is not a valid name"),
        ("postgresql://h/db?tracestore_schema=pg_catalog", "reserved"),
        ("postgresql://h/db?tracestore_table=x%22y", "tracestore_table='x\"y' is not a valid name"),
        ("postgresql://h/db?tracestore_schema=a&tracestore_schema=b", "given twice"),
        ("postgresql://h/db?tracestore_shema=a", "unknown parameter 'tracestore_shema'"),
        ("postgresql://h/db?sslmode=bogus&x", "not a valid libpq URL"),
    ],
)
def test_S14_bad_connection_strings(connection_string: str, why: str) -> None:
    with pytest.raises(StoreConfigError) as info:
        PostgresStore.make_store(connection_string)
    assert why in str(info.value)
    assert repr(mask_password(connection_string)) in str(info.value)


def test_S14_unreachable_server_is_named() -> None:
    with pytest.raises(StoreConfigError, match=r"'postgresql://postgres@127.0.0.1:1/test': cannot connect"):
        PostgresStore.make_store("postgresql://postgres@127.0.0.1:1/test")


def test_S14_unknown_database_is_named(schemas: SchemaFactory) -> None:
    with pytest.raises(StoreConfigError, match="does not exist"):
        PostgresStore.make_store("postgresql://postgres@127.0.0.1:5432/no_such_db_tracestore")


def test_S14_foreign_table_is_refused_and_left_alone(schemas: SchemaFactory) -> None:
    schema = schemas.new_name()
    with admin_connect() as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'CREATE TABLE "{schema}".call_traces (id int)')
    with pytest.raises(StoreConfigError, match=r"cannot use the table.*does not exist"):
        PostgresStore.make_store(schemas.connection_string(schema))
    with admin_connect() as conn:
        columns = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s", (schema,)
        ).fetchall()
    assert columns == [("id",)]


def test_S14_example_connection_string_works(schemas: SchemaFactory) -> None:
    if server_dsn() != DEFAULT_DSN:
        pytest.skip(f"the example names the default server {DEFAULT_DSN}; TRACESTORE_PG_DSN points elsewhere")
    unique = secrets.token_hex(6)
    url = PostgresStore.example_connection_string.format(unique=unique)
    try:
        with PostgresStore.make_store(url) as made:
            made.add([CallTrace(local_function, {"a": int}, str)])
            assert made.filter(__name__) == [
                CallTraceRow.from_trace(CallTrace(local_function, {"a": int}, str))
            ]
    finally:
        with admin_connect() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "ts_{unique}" CASCADE')


# -- creation ------------------------------------------------------------------------------------


def test_creation_is_idempotent_and_tables_share_a_schema(schemas: SchemaFactory) -> None:
    schema = schemas.new_name()
    one = PostgresStore.make_store(with_params(schemas.connection_string(schema), tracestore_table="one"))
    two = PostgresStore.make_store(with_params(schemas.connection_string(schema), tracestore_table="two"))
    again = PostgresStore.make_store(with_params(schemas.connection_string(schema), tracestore_table="one"))
    with one, two, again:
        one.add([CallTrace(local_function, {"a": int}, str)])
        assert len(again.filter(__name__)) == 1
        assert two.filter(__name__) == []


def _schema_tables(schema: str) -> List[str]:
    with admin_connect() as conn:
        rows = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY 1",
            (schema,),
        ).fetchall()
    return [name for (name,) in rows]


def test_drop_store_removes_its_table_then_its_emptied_schema(schemas: SchemaFactory) -> None:
    schema = schemas.new_name()
    urls = [with_params(schemas.connection_string(schema), tracestore_table=t) for t in ("one", "two")]
    for url in urls:
        with PostgresStore.make_store(url) as made:
            made.add([CallTrace(local_function, {"a": int}, str)])
    PostgresStore.drop_store(urls[0])
    assert _schema_tables(schema) == ["two"]
    with PostgresStore.make_store(urls[1]) as kept:
        assert len(kept.filter(__name__)) == 1
    PostgresStore.drop_store(urls[1])
    assert schema not in schemas.existing()
    PostgresStore.drop_store(urls[1])  # dropping what is gone is no error


def test_the_kit_runner_drops_every_store_it_made(schemas: SchemaFactory) -> None:
    template = with_params(server_dsn(), tracestore_schema=schemas.prefix + "kit_{unique}")
    report = run_kit(PostgresStore, connection_string=template, profile="dev", rules=["S1", "S10", "S14"])
    assert report.ok, format_text(report, verbose=True)
    assert [name for name in schemas.existing() if "kit_" in name] == []


# -- semantics -----------------------------------------------------------------------------------


def test_S1_S15_round_trip_most_recent_first(store: PostgresStore) -> None:
    first = CallTrace(local_function, {"a": int}, str)
    second = CallTrace(Local.method, {"self": Local}, type(None))
    store.add([first, second])
    found = store.filter(__name__)
    assert [row.to_trace() for row in found] == [second, first]


def test_S6_readded_trace_moves_to_front_and_is_listed_once(store: PostgresStore) -> None:
    a, b, c = trace("m", "a"), trace("m", "b"), trace("m", "c")
    store.add([a, b, c])
    store.add([a])
    assert qualnames(store.filter("m")) == ["a", "c", "b"]
    assert qualnames(store.filter("m", limit=2)) == ["a", "c"]


def test_S6_repeats_inside_one_batch_count_at_the_last_place(store: PostgresStore) -> None:
    a, b, c = trace("m", "a"), trace("m", "b"), trace("m", "c")
    store.add([a, b, a, c, b, a, a])
    assert qualnames(store.filter("m")) == ["a", "b", "c"]


def test_S6_null_return_and_yield_are_distinct_from_values(store: PostgresStore) -> None:
    func = func_named("m", "f")
    store.add(
        [
            CallTrace(func, {"x": int}, None, None),
            CallTrace(func, {"x": int}, type(None), None),
            CallTrace(func, {"x": int}, None, int),
            CallTrace(func, {"x": int}, None, None),
        ]
    )
    found = as_rows(store.filter("m"))
    assert [(row.return_type, row.yield_type) for row in found] == [
        (None, None),
        (None, '{"module": "builtins", "qualname": "int"}'),
        ('{"module": "builtins", "qualname": "NoneType"}', None),
    ]


def test_S5_limit_takes_the_most_recent_across_batches(store: PostgresStore) -> None:
    for start in range(0, 30, 10):
        store.add([trace("m", f"f{i:02d}") for i in range(start, start + 10)])
    assert qualnames(store.filter("m", limit=5)) == ["f29", "f28", "f27", "f26", "f25"]
    assert qualnames(store.filter("m", "f1", limit=3)) == ["f19", "f18", "f17"]


def test_S4_limits(store: PostgresStore) -> None:
    store.add([trace("m", "a")])
    assert store.filter("m", limit=0) == []
    with pytest.raises(ValueError):
        store.filter("m", limit=-1)
    assert len(store.filter("m", limit=1)) == 1
    assert len(store.filter("m", limit=2**80)) == 1


def test_S8_empty(store: PostgresStore) -> None:
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
        "*",
        "?",
        "[a]",
        "a%",
        "a_b",
        "é",
        "É",
        "\u00df",
        "日本",
        "🐍",
        "\x00",
        "\x01",
        "\x010041",
    ],
)
def test_S2_S3_metacharacters_are_literal(store: PostgresStore, weird: str) -> None:
    names = [weird, f"{weird}x", f"x{weird}", "plain", "a", "ab", "Ab", "A%b", "a_b", "\x01", "A"]
    store.add([trace(module, f"{module}.{q}") for module in (weird, "plain") for q in names])
    for module in (weird, "plain", f"{weird}x", weird.upper()):
        for prefix in ("", f"{module}.", f"{module}.{weird}", f"{module}.a", f"{module}.A", f"{module}.%"):
            expected = sorted(
                {f"{module}.{q}" for q in names if f"{module}.{q}".startswith(prefix)}
                if module in (weird, "plain")
                else set()
            )
            assert sorted(qualnames(store.filter(module, prefix))) == expected, (module, prefix)


def test_S3_surrogates_and_the_last_code_point(store: PostgresStore) -> None:
    top = "\U0010ffff"
    names = ["\ud800", "\ud800x", "\udfff", "\ud7ff", "\ue000", top, top + top, top + "a", "a" + top, "b"]
    store.add([trace("m", q) for q in names])
    for prefix in ["\ud800", "\ud7ff", top, top + top, "a", "a" + top, "\ue000"]:
        assert sorted(qualnames(store.filter("m", prefix))) == sorted(
            q for q in names if q.startswith(prefix)
        )


def test_S2_S3_names_longer_than_the_indexed_part(store: PostgresStore) -> None:
    rng = random.Random(1)
    noise = "".join(chr(rng.randrange(0x100, 0x3000)) for _ in range(3000))  # ~8 KB, incompressible
    base = "m" * INDEX_CHARS
    modules = [base, base + "a", base + "b", noise, noise + "x", "short"]
    names = ["q" * INDEX_CHARS, "q" * INDEX_CHARS + "1", "q" * INDEX_CHARS + "12", noise, noise + "y", "q"]
    store.add([trace(module, name) for module in modules for name in names])
    assert sorted(store.list_modules()) == sorted(modules)
    for module in [*modules, base[:-1], base + "c"]:
        for prefix in [
            "",
            "q",
            "q" * INDEX_CHARS,
            "q" * INDEX_CHARS + "1",
            "q" * (INDEX_CHARS - 1),
            noise[:500],
            noise,
        ]:
            expected = sorted(name for name in names if name.startswith(prefix)) if module in modules else []
            assert sorted(qualnames(store.filter(module, prefix))) == expected, (module[:5], len(prefix))


def test_escape_is_prefix_free_and_reversible() -> None:
    for text in ["", "a", "\x00", "\x01", "\x010000", "a\ud800b\x00\x01", "\U0010ffff"]:
        assert unescape(escape(text)) == text
        assert "\x00" not in escape(text)
    assert escape("plain.name") == "plain.name"
    assert not escape("\x010000").startswith(escape("\x00"))
    assert prefix_upper_bound("ab") == "ac"
    assert prefix_upper_bound("a\ud7ff") == "a\ue000"
    assert prefix_upper_bound("a\U0010ffff") == "b"
    assert prefix_upper_bound("\U0010ffff") is None


def test_S12_list_modules_each_once(store: PostgresStore) -> None:
    store.add([trace(m, q) for m in ("b", "a", "a.b", "\x00z", "é") for q in ("f", "g")])
    store.add([trace("a", "f")])
    modules = store.list_modules()
    assert sorted(modules) == sorted(["b", "a", "a.b", "\x00z", "é"])


def test_S7_bad_traces_are_skipped(store: PostgresStore, caplog: pytest.LogCaptureFixture) -> None:
    bad = CallTrace(local_function, {"a": 42}, str)  # type: ignore[dict-item]  # not a type: cannot encode
    good = CallTrace(local_function, {"a": int}, str)
    store.add([bad, good])
    assert store.filter(__name__) == [CallTraceRow.from_trace(good)]
    assert any(record.levelname == "ERROR" for record in caplog.records)


def test_S10_reopened_store_sees_everything(schemas: SchemaFactory) -> None:
    url = schemas.connection_string()
    with PostgresStore.make_store(url) as first:
        first.add([trace("m", f"f{i}") for i in range(5)])
        before = first.filter("m", limit=3)
    with PostgresStore.make_store(url) as again:
        assert again.filter("m", limit=3) == before


def test_S11_threads(store: PostgresStore) -> None:
    errors: List[BaseException] = []

    def work(n: int) -> None:
        try:
            for batch in range(10):
                store.add([trace("m", f"t{n}.{batch}.{i}") for i in range(20)])
                store.filter("m", f"t{n}", limit=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.filter("m", limit=10_000)) == 4 * 10 * 20


def test_iter_rows_of_a_store_no_one_holds(schemas: SchemaFactory) -> None:
    """The rows stream even when only the iterator refers to the store (no "is closed")."""
    url = schemas.connection_string()
    with PostgresStore.make_store(url) as made:
        made.add([trace("m", f"f{i}") for i in range(5)])
    assert [row.qualname for row in PostgresStore.make_store(url).iter_rows()] == [f"f{i}" for i in range(5)]


def test_closed_store_says_so(schemas: SchemaFactory) -> None:
    made = PostgresStore.make_store(schemas.connection_string())
    made.close()
    made.close()
    with pytest.raises(TraceStoreError, match="is closed"):
        made.filter("m")


# -- index plans: filter cost follows limit ---------------------------------------------------


def test_filter_plans_use_the_indexes(store: PostgresStore, schemas: SchemaFactory) -> None:
    store.add([trace(f"mod{m}", f"Class{c}.f{i}") for m in range(10) for c in range(20) for i in range(50)])
    schema = store._config.schema
    sql = statements(schema, "call_traces")
    with admin_connect() as conn:
        conn.execute(f'ANALYZE "{schema}".call_traces')

        def plan(query: Any, params: Any) -> str:
            rows = conn.execute(psycopg.sql.SQL("EXPLAIN ") + query, params).fetchall()
            return "\n".join(row[0] for row in rows)

        recent = plan(sql.filters["recent", False], ("mod3", 10))
        assert "call_traces_module_seq" in recent and "Sort" not in recent and "Seq Scan" not in recent
        prefixed = plan(sql.filters["range", False], ("mod3", "Class7.", "Class7/", 10))
        assert "Index" in prefixed and "Seq Scan" not in prefixed, prefixed
        modules = plan(sql.modules, None)
        assert "Seq Scan" not in modules, modules


def test_each_add_is_one_round_trip(store: PostgresStore, tmp_path: Path) -> None:
    """One Sync message per add, also past psycopg's prepare threshold (its 5th run of a query)."""
    trace_file = tmp_path / "libpq.trace"
    syncs = []
    with trace_file.open("w") as out:
        pgconn = store._link.run("trace", lambda conn: conn.pgconn)
        pgconn.trace(out.fileno())
        try:
            for batch in range(8):
                store.add([trace("m", f"f{batch}_{i}") for i in range(100)])
                out.flush()
                syncs.append(trace_file.read_text().count("\tSync"))
        finally:
            pgconn.untrace()
    assert syncs == list(range(1, 9))
    assert len(store.filter("m", limit=10_000)) == 800


def test_filter_is_never_prepared(store: PostgresStore) -> None:
    """Past psycopg's prepare threshold too: a prepared filter would soon run a generic plan."""
    store.add([trace("m", f"f{i}") for i in range(20)])
    for prefix in [None, "f1", "f"] * 4:
        assert store.filter("m", prefix)
    prepared = store._link.run(
        "inspect", lambda conn: conn.execute("SELECT name FROM pg_prepared_statements")
    )
    assert prepared.fetchall() == []


# -- recovery --------------------------------------------------------------------------------


def backend_pid(store: PostgresStore) -> int:
    return store._link.run("pid", lambda conn: conn.info.backend_pid)


def terminate(pid: int) -> None:
    with admin_connect() as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        for _ in range(100):
            if not conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchall():
                return
            time.sleep(0.02)


def test_a_dropped_connection_is_reopened(store: PostgresStore) -> None:
    store.add([trace("m", "before")])
    old = backend_pid(store)
    terminate(old)
    store.add([trace("m", "after")])
    assert qualnames(store.filter("m")) == ["after", "before"]
    assert backend_pid(store) != old
    terminate(backend_pid(store))
    assert qualnames(store.filter("m")) == ["after", "before"]


def test_a_server_that_stays_away_gives_a_clear_error(store: PostgresStore) -> None:
    store._link._config = store._link._config._replace(conninfo="host=127.0.0.1 port=1 dbname=test")
    terminate(backend_pid(store))
    with pytest.raises(TraceStoreError, match="add failed: the connection was lost and reconnecting failed"):
        store.add([trace("m", "lost")])


# -- the conformance kit -------------------------------------------------------------------------

KIT_SCHEMAS = SchemaFactory("kit")


@pytest.fixture(scope="module")
def kit_server() -> Iterator[None]:
    """The server is up (else skip, or fail under CI); afterwards no kit schema is left."""
    require_server()
    yield
    KIT_SCHEMAS.drop_all()  # a schema an interrupted example left behind


@pytest.mark.usefixtures("kit_server")
class TestPostgresConformance(CallTraceStoreTests[PostgresStore]):
    """The whole kit against the real server: one fresh schema per generated example, dropped after it."""

    store_class = PostgresStore
    connection_template = KIT_SCHEMAS.connection_string(KIT_SCHEMAS.prefix + "{unique}")

    def bad_connection_strings(self, directory: Path) -> Sequence[str]:
        good = self.connection_string(directory)
        return [
            str(directory / "traces.db"),
            good.replace("tracestore_schema=", "tracestore_schema=0"),
            good.replace("127.0.0.1:5432", "127.0.0.1:1")
            if "127.0.0.1:5432" in good
            else "postgresql://127.0.0.1:1/x",
        ]
