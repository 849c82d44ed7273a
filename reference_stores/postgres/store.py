"""``PostgresStore``: traces from a whole fleet of machines in one PostgreSQL database (psycopg 3)."""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any, Callable, Iterable, Iterator, List, Optional, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import TupleRow

from reference_stores.postgres.config import (
    PostgresConfig,
    parse_connection_string,
    read_only_connection_string,
)
from reference_stores.postgres.rows import escape, make_batch, unescape
from reference_stores.postgres.sql import Statements, filter_query, statements
from reference_stores.rows import checked_rows
from tracestore import (
    CallTraceRow,
    CallTraceStore,
    CallTraceThunk,
    StoreConfigError,
    TraceStoreError,
    check_limit,
    serialize_traces,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
Connection = psycopg.Connection[TupleRow]
_MAX_LIMIT = 2**63 - 1  # LIMIT is a bigint; no table holds more rows anyway
_ROLLBACK_RETRIES = 3  # a deadlock or serialization failure aborts the whole batch: run it again
STREAM_CHUNK = 2000  # rows per FETCH of iter_rows's server-side cursor


class PostgresStore(CallTraceStore):
    """Distinct traces, most recent first (S6, S15), in one table of a PostgreSQL database.

    Connection string: a libpq URL plus optional parameters that name the table::

        postgresql://[user[:password]@][host][:port][/dbname][?param=value&...]
            tracestore_schema=NAME   schema of the table (default "tracestore"), created if missing
            tracestore_table=NAME    table name (default "call_traces")
            tracestore_readonly=true read only: every transaction of the session is READ ONLY
                                     (default_transaction_read_only), the table must exist,
                                     and add raises TraceStoreError

    Names are ASCII letters, digits and underscores. Every other parameter goes to libpq
    unchanged. Unless the URL sets them, these apply: ``connect_timeout=5``, TCP keepalives
    and ``tcp_user_timeout`` (a dead peer is noticed in under a minute), and a 120 s
    ``statement_timeout`` (through ``options``). Many stores can share a database, one
    schema or table each; the table's layout is in ``reference_stores.postgres.sql``, and
    text PostgreSQL cannot hold (NUL, lone surrogates) is escaped (``postgres.rows``).

    Each ``add`` is one statement, so one round trip and one transaction: all of the batch
    or none of it. The store is thread-safe (one connection behind a lock); a connection
    lost between or during calls is reopened once and the call retried, else the call
    raises ``TraceStoreError``. Call ``close()`` (or use ``with``) to release the
    connection early; otherwise it closes when the store is garbage collected.
    """

    ordered_results = True
    distinct_results = True
    example_connection_string = "postgresql://postgres@127.0.0.1:5432/test?tracestore_schema=ts_{unique}"

    def __init__(self, config: PostgresConfig) -> None:
        """Connect and create the table if needed; prefer ``make_store``. Raises ``StoreConfigError``."""
        self._config = config
        self._sql = statements(config.schema, config.table)
        self._link = _Link(config)
        self._closer = weakref.finalize(self, self._link.close)
        try:
            self._link.open(self._sql)
        except BaseException:
            self.close()
            raise

    @classmethod
    def make_store(cls, connection_string: str) -> PostgresStore:
        return cls(parse_connection_string(connection_string))

    @classmethod
    def make_read_only_store(cls, connection_string: str) -> PostgresStore:
        """The store ``connection_string`` names, read-only (``tracestore_readonly=true`` unless it says)."""
        return cls.make_store(read_only_connection_string(connection_string))

    @property
    def config(self) -> PostgresConfig:
        """What the connection string named (the libpq parameters it connects with, ...)."""
        return self._config

    @classmethod
    def drop_store(cls, connection_string: str) -> None:
        """Delete the store the string names: its table, and its schema if that is then empty
        (never ``public``). The kit's runner calls it for each store it made."""
        config = parse_connection_string(connection_string)
        statements_ = statements(config.schema, config.table)
        try:
            with psycopg.connect(config.conninfo, autocommit=True) as conn:
                conn.execute(statements_.drop_table)
                if config.schema != "public":
                    try:
                        conn.execute(statements_.drop_schema)
                    except pg_errors.DependentObjectsStillExist:
                        pass  # other tables live there: the schema is not this store's alone
        except psycopg.Error as exc:
            raise TraceStoreError(f"PostgresStore {config.display!r}: drop failed: {_message(exc)}") from exc

    def add(self, traces: Iterable[Any]) -> None:
        self._store("add", serialize_traces(traces))

    def add_rows(self, rows: Iterable[Any]) -> int:
        """Store encoded rows as they are, like ``add`` (``tracestore.copy.RowSink``).

        Raises ``EncodeError``, storing nothing, for a row with a field of the wrong type.
        """
        return self._store("add_rows", checked_rows(rows))

    def iter_rows(self) -> Iterator[CallTraceRow]:
        """Every stored row, oldest first across modules, streamed (``tracestore.copy.RowSource``).

        One read-only transaction on a connection of its own, with a server-side cursor:
        a consistent snapshot, ``STREAM_CHUNK`` rows per round trip, and this store's own
        connection stays free meanwhile.  A lost connection raises ``TraceStoreError``.
        """
        # A generator here, so that it keeps the store (whose finalizer closes the link) alive.
        yield from self._link.stream(self._sql.oldest_first, STREAM_CHUNK)

    def _store(self, what: str, rows: Iterable[CallTraceRow]) -> int:
        """Upsert rows in one statement (all or nothing), each distinct row at its last place."""
        if self._config.read_only:
            raise TraceStoreError(f"{what}: {self!r} was opened read-only (tracestore_readonly=true)")
        batch = make_batch(rows)
        if not batch.keys:
            return 0
        # Never prepared: psycopg prepares a statement on its 5th run in a separate round trip.
        found = self._link.run(
            what, lambda conn: conn.execute(self._sql.upsert, tuple(batch), prepare=False).fetchone()
        )
        return 0 if found is None else int(found[0])

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        check_limit(limit)
        if limit == 0:
            return []
        limit = min(limit, _MAX_LIMIT)
        query, params = filter_query(self._sql, escape(module), escape(qualname_prefix or ""), limit)
        # Never prepared: a prepared statement soon runs PostgreSQL's generic plan, made without the
        # prefix's value, which reads every row of a prefix and sorts them (40x slower at 1M rows).
        found = self._link.run("filter", lambda conn: conn.execute(query, params, prepare=False).fetchall())
        return [
            CallTraceRow(
                module,
                unescape(qualname),
                unescape(arg_types),
                None if return_type is None else unescape(return_type),
                None if yield_type is None else unescape(yield_type),
            )
            for qualname, arg_types, return_type, yield_type in found
        ]

    def list_modules(self) -> List[str]:
        found = self._link.run("list_modules", lambda conn: conn.execute(self._sql.modules).fetchall())
        return [unescape(module) for (module,) in found]

    def close(self) -> None:
        """Close the connection; the store cannot be used afterwards."""
        self._closer()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._config.display!r})"


class _Link:
    """The store's one connection, its lock, and the reconnect-once policy."""

    def __init__(self, config: PostgresConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._conn: Optional[Connection] = None
        self._closed = False

    def open(self, sql: Statements) -> None:
        """Connect and make sure the table exists (S14: every failure is a ``StoreConfigError``)."""
        display = self._config.display
        try:
            conn = self._connect()
        except psycopg.Error as exc:
            raise StoreConfigError(
                f"PostgresStore connection string {display!r}: cannot connect: {_message(exc)}"
            ) from None
        self._conn = conn
        try:
            if self._config.read_only:
                conn.execute(sql.check)  # the table must be there: a read-only session creates nothing
            else:
                _ensure_table(conn, sql)
        except psycopg.Error as exc:
            raise StoreConfigError(
                f"PostgresStore connection string {display!r}: cannot use the table: {_message(exc)}"
            ) from None

    def run(self, what: str, work: Callable[[Connection], T]) -> T:
        """``work(connection)`` under the lock; reconnect once if the connection was lost."""
        with self._lock:
            if self._closed:
                raise TraceStoreError(f"PostgresStore {self._config.display!r} is closed")
            reconnected, rollbacks = False, 0
            while True:
                conn = self._conn
                if conn is None or conn.closed:
                    conn = self._reconnect(what)
                    reconnected = True
                try:
                    return work(conn)
                except psycopg.Error as exc:
                    if conn.closed and not reconnected:
                        logger.warning("PostgresStore %s: connection lost (%s); reconnecting", what, exc)
                        continue
                    if isinstance(exc, pg_errors.TransactionRollback) and rollbacks < _ROLLBACK_RETRIES:
                        rollbacks += 1
                        continue
                    raise TraceStoreError(
                        f"PostgresStore {self._config.display!r}: {what} failed: {_message(exc)}"
                    ) from exc

    def stream(self, query: Any, chunk: int) -> Iterator[CallTraceRow]:
        """The rows ``query`` selects, through a server-side cursor on a connection of its own."""
        if self._closed:
            raise TraceStoreError(f"PostgresStore {self._config.display!r} is closed")
        try:
            conn = psycopg.connect(self._config.conninfo)
        except psycopg.Error as exc:
            raise TraceStoreError(
                f"PostgresStore {self._config.display!r}: iter_rows cannot connect: {_message(exc)}"
            ) from exc
        try:
            conn.read_only = True
            with conn.cursor(name="tracestore_iter_rows") as cursor:
                cursor.execute(query)
                while True:
                    found = cursor.fetchmany(chunk)
                    for module, qualname, arg_types, return_type, yield_type in found:
                        yield CallTraceRow(
                            unescape(module),
                            unescape(qualname),
                            unescape(arg_types),
                            None if return_type is None else unescape(return_type),
                            None if yield_type is None else unescape(yield_type),
                        )
                    if len(found) < chunk:
                        break
        except psycopg.Error as exc:
            raise TraceStoreError(
                f"PostgresStore {self._config.display!r}: iter_rows failed: {_message(exc)}"
            ) from exc
        finally:
            conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _connect(self) -> Connection:
        return psycopg.connect(self._config.conninfo, autocommit=True)

    def _reconnect(self, what: str) -> Connection:
        old, self._conn = self._conn, None
        if old is not None:
            old.close()
        try:
            self._conn = self._connect()
        except psycopg.Error as exc:
            raise TraceStoreError(
                f"PostgresStore {self._config.display!r}: {what} failed: "
                f"the connection was lost and reconnecting failed: {_message(exc)}"
            ) from exc
        return self._conn


def _ensure_table(conn: Connection, sql: Statements) -> None:
    """Create the schema, table and indexes unless they exist; idempotent and race-free.

    Creators of one schema take turns (an advisory lock), and a creator that finds the
    table made while it waited runs no DDL: even ``IF NOT EXISTS`` DDL takes locks that
    can deadlock with another process's first ``add``.
    """
    try:
        conn.execute(sql.check)
        return
    except (pg_errors.UndefinedTable, pg_errors.InvalidSchemaName):
        pass
    with conn.transaction():
        conn.execute(sql.lock)
        found = conn.execute(sql.exists).fetchone()
        if found is None or found[0] is None:
            conn.execute(sql.create)
    conn.execute(sql.check)


def _message(exc: BaseException) -> str:
    """An exception as one line: psycopg's messages are multi-line."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
