"""Reads never write: every reference store opened read-only leaves its file, or its table, as it was."""

from __future__ import annotations

import hashlib
import pathlib
from typing import Any, Iterator, List, Tuple

import psycopg
import pytest
from psycopg import sql

from reference_stores.lmdb import LMDBStore
from reference_stores.postgres import PostgresStore
from reference_stores.sqlite import SQLiteStore
from tests.support.postgres import SchemaFactory, admin_connect, run_schemas
from tests.support.workload import production_workload
from tracestore import StoreConfigError, TraceStoreError
from tracestore.copy import copy_traces, open_source

ROWS = 3000


@pytest.fixture(scope="module")
def schemas() -> Iterator[SchemaFactory]:
    yield from run_schemas("readonly")


def digest(directory: pathlib.Path) -> List[Tuple[str, str]]:
    """The sha1 of every data file under ``directory`` (LMDB's lock file holds only reader slots)."""
    return [
        (p.name, hashlib.sha1(p.read_bytes()).hexdigest())
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name not in ("lock.mdb",)
    ]


def read_session(store: Any) -> None:
    """filter, list_modules and iter_rows: everything a reader does."""
    modules = store.list_modules()
    assert modules
    for module in modules:
        assert store.filter(module, None, 10**6)
        store.filter(module, "a", 5)
    assert sum(1 for _ in store.iter_rows()) > 0


def test_lmdb_read_only_leaves_data_mdb_byte_identical(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "traces.lmdb"
    writer = LMDBStore.make_store(str(path))
    writer.add(production_workload(ROWS))
    writer.close()
    before = digest(tmp_path)
    reader = LMDBStore.make_store(f"{path}?readonly=true")
    read_session(reader)
    with pytest.raises(TraceStoreError, match=r"read-only \(readonly=true\)"):
        reader.add(production_workload(3))
    copied = copy_traces(open_source(f"lmdb={path}")[0], SQLiteStore.make_store(str(tmp_path / "c.sqlite3")))
    assert copied.new == copied.read > 0
    reader.close()
    assert [entry for entry in digest(tmp_path) if entry[0] == "data.mdb"] == [
        entry for entry in before if entry[0] == "data.mdb"
    ]


def test_lmdb_read_only_needs_an_existing_environment_and_creates_nothing(tmp_path: pathlib.Path) -> None:
    with pytest.raises(StoreConfigError, match="readonly=true opens an existing environment"):
        LMDBStore.make_store(f"{tmp_path / 'none.lmdb'}?readonly=true")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(StoreConfigError, match="readonly must be true or false"):
        LMDBStore.make_store(f"{tmp_path / 'none.lmdb'}?readonly=maybe")


def test_sqlite_read_only_copy_source_stays_byte_identical(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ours.sqlite3"
    writer = SQLiteStore.make_store(str(path))
    writer.add(production_workload(ROWS))
    writer.close()
    before = digest(tmp_path)
    source, read_only = open_source(f"sqlite={path}")
    assert read_only
    read_session(source)
    report = copy_traces(source, LMDBStore.make_store(str(tmp_path / "out.lmdb")))
    assert report.new == report.read > 0
    assert [e for e in digest(tmp_path) if e[0] == "ours.sqlite3"] == [
        e for e in before if e[0] == "ours.sqlite3"
    ]


def table_state(schema: str) -> Tuple[List[Tuple[Any, ...]], List[Tuple[Any, ...]]]:
    """Every row of the store's table, and the schema's catalogue (columns, indexes, sequences)."""
    with admin_connect() as conn:
        rows = conn.execute(
            sql.SQL("SELECT * FROM {}.call_traces ORDER BY seq").format(sql.Identifier(schema))
        ).fetchall()
        catalogue = conn.execute(
            "SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
            "WHERE n.nspname = %s ORDER BY 1, 3",
            (schema,),
        ).fetchall()
        (last_value,) = conn.execute(
            sql.SQL("SELECT last_value FROM {}.call_traces_seq").format(sql.Identifier(schema))
        ).fetchone() or (None,)
    return rows, [*catalogue, ("seq", last_value)]


def test_postgres_read_only_leaves_rows_and_schema_identical(schemas: SchemaFactory) -> None:
    schema = schemas.new_name()
    connection = schemas.connection_string(schema)
    PostgresStore.make_store(connection).add(production_workload(ROWS))
    before = table_state(schema)
    source, read_only = open_source(f"postgres={connection}")
    assert read_only and isinstance(source, PostgresStore)
    read_session(source)
    with pytest.raises(TraceStoreError, match=r"read-only \(tracestore_readonly=true\)"):
        source.add(production_workload(3))
    report = copy_traces(source, SQLiteStore.make_store(":memory:"))
    assert report.new == report.read > 0
    assert table_state(schema) == before


def test_postgres_read_only_session_refuses_writes_server_side(schemas: SchemaFactory) -> None:
    """The session itself is read-only: a write that got past the store would fail in PostgreSQL."""
    schema = schemas.new_name()
    connection = schemas.connection_string(schema)
    PostgresStore.make_store(connection).add(production_workload(10))
    config = PostgresStore.make_read_only_store(connection).config
    with psycopg.connect(config.conninfo, autocommit=True) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute(sql.SQL("DELETE FROM {}.call_traces").format(sql.Identifier(schema)))


def test_postgres_read_only_never_creates_a_table(schemas: SchemaFactory) -> None:
    schema = schemas.new_name()
    with pytest.raises(StoreConfigError, match="cannot use the table"):
        PostgresStore.make_read_only_store(schemas.connection_string(schema))
    with admin_connect() as conn:
        assert conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is None


def test_lmdb_trim_memory_gives_back_map_pages_and_reads_stay_right(tmp_path: pathlib.Path) -> None:
    from reference_stores.lmdb.mapped import mapped_ranges

    path = tmp_path / "traces.lmdb"
    store = LMDBStore.make_store(str(path))
    store.add(production_workload(ROWS))
    before = [repr(row) for row in store.iter_rows()]
    assert mapped_ranges(str(path / "data.mdb"))  # the map is found (Linux)
    store.trim_memory()
    assert [repr(row) for row in store.iter_rows()] == before
    store.add(production_workload(10, seed=5))
    store.trim_memory()
    assert store.list_modules()
