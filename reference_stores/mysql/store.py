"""``MySQLStore``: traces from a whole fleet of machines in one MySQL or MariaDB database."""

from __future__ import annotations

import weakref
from typing import Any, Iterable, Iterator, List, Optional, Tuple

import pymysql
import pymysql.cursors

from reference_stores.mysql.config import MySQLConfig, parse_connection_string
from reference_stores.mysql.pool import Connection, Pool, connect, message
from reference_stores.mysql.rows import (
    StoredRow,
    decode,
    encode,
    make_batch,
    module_key,
    prefix_upper_bound,
    row_size,
    to_row,
)
from reference_stores.mysql.sql import ROW_PLACEHOLDERS, chunks, placeholders, statements
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

_MAX_LIMIT = 2**63 - 1  # no table holds more rows; LIMIT takes up to 2**64 - 1
MAX_ROWS_PER_STATEMENT = 5_000  # 7 values a row: 35,000, under the 65,535 placeholder cap
STREAM_CHUNK = 2000  # rows per fetch of iter_rows's unbuffered cursor


class MySQLStore(CallTraceStore):
    """Distinct traces, most recent first (S6, S15), in one InnoDB table of MySQL 8 or MariaDB 10.6+.

    Connection string::

        mysql://user[:password]@host[:port]/db[?param=value&...]
            table=NAME           the table (default "call_traces"), created if missing
            pool_size=N          at most N connections at once (default 4)
            connect_timeout=S    seconds to connect (default 5)
            timeout=S            seconds a read or write may take (default 120)

    ``mariadb://`` works too. Table names are ASCII letters, digits and underscores. The
    store picks its own column types (binary, see ``reference_stores.mysql.sql``), so the
    server's default collation does not matter.

    Each ``add`` is one transaction (all of the batch or none of it), rolled back on any
    error before its connection is reused; a deadlock or lock wait timeout runs it again,
    and a lost connection is replaced and the call run once more, else the call raises
    ``TraceStoreError``. The store is thread-safe; ``close()`` (or ``with``) releases the
    pool's connections, which otherwise close when the store is garbage collected.
    """

    ordered_results = True
    distinct_results = True
    example_connection_string = "mysql://root@127.0.0.1:3306/test?table=ts_{unique}"

    def __init__(self, config: MySQLConfig) -> None:
        """Connect and create the table if needed; prefer ``make_store``. Raises ``StoreConfigError``."""
        self._config = config
        self._sql = statements(config.table)
        self._pool = Pool(config)
        self._closer = weakref.finalize(self, self._pool.close)
        self._max_bytes = 1 << 20
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    @classmethod
    def make_store(cls, connection_string: str) -> MySQLStore:
        return cls(parse_connection_string(connection_string))

    @classmethod
    def drop_store(cls, connection_string: str) -> None:
        """Delete the table the string names (no error if it is gone); the kit's runner calls it."""
        config = parse_connection_string(connection_string)
        try:
            conn = connect(config)
        except pymysql.Error as exc:
            raise TraceStoreError(f"MySQLStore {config.display!r}: drop failed: {message(exc)}") from exc
        try:
            conn.query(statements(config.table).drop)
        except pymysql.Error as exc:
            raise TraceStoreError(f"MySQLStore {config.display!r}: drop failed: {message(exc)}") from exc
        finally:
            conn.close()

    def _open(self) -> None:
        """Connect, create the table unless it exists, and check it (S14: ``StoreConfigError``)."""
        display = self._config.display
        try:
            conn = connect(self._config)
        except pymysql.Error as exc:
            raise StoreConfigError(
                f"MySQLStore connection string {display!r}: cannot connect: {message(exc)}"
            ) from None
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(self._sql.check)
            except pymysql.ProgrammingError as exc:
                if exc.args[0] != 1146:  # ER_NO_SUCH_TABLE; else a foreign table: leave it alone
                    raise
                cursor.execute(self._sql.create)  # one atomic DDL statement: all of it or nothing
                cursor.execute(self._sql.check)
            cursor.execute("SELECT @@max_allowed_packet")
            (packet,) = cursor.fetchone()
            # Escaping at most doubles a value; leave room for the statement around the values.
            self._max_bytes = max(int(packet) // 4, 1024)
        except pymysql.Error as exc:
            raise StoreConfigError(
                f"MySQLStore connection string {display!r}: cannot use the table: {message(exc)}"
            ) from None
        finally:
            conn.close()

    def add(self, traces: Iterable[Any]) -> None:
        self._store("add", serialize_traces(traces))

    def add_rows(self, rows: Iterable[Any]) -> int:
        """Store encoded rows as they are, like ``add`` (``tracestore.copy.RowSink``); returns how
        many distinct rows were not stored before.

        Raises ``EncodeError``, storing nothing, for a row with a field of the wrong type.
        """
        return self._store("add_rows", checked_rows(rows))

    def _store(self, what: str, rows: Iterable[CallTraceRow]) -> int:
        """Delete the batch's rows, then insert them in order, in one transaction (S6); returns
        how many of the batch's distinct rows were new."""
        batch = make_batch(rows)
        if not batch:
            return 0
        slices = chunks(tuple(map(row_size, batch)), MAX_ROWS_PER_STATEMENT, self._max_bytes)
        return self._pool.run(what, lambda conn: self._write(conn, batch, slices), transaction=True)

    def _write(self, conn: Connection, batch: List[StoredRow], slices: Tuple[Tuple[int, int], ...]) -> int:
        cursor = conn.cursor()
        replaced = 0
        for start, end in slices:
            rows = batch[start:end]
            replaced += cursor.execute(
                self._sql.delete.format(placeholders(len(rows))), [row[0] for row in rows]
            )
            values = [value for row in rows for value in row]
            cursor.execute(self._sql.insert.format(placeholders(len(rows), ROW_PLACEHOLDERS)), values)
        return len(batch) - replaced

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        check_limit(limit)
        if limit == 0:
            return []
        name = encode(module)
        params: Tuple[Any, ...]
        if qualname_prefix:
            prefix = encode(qualname_prefix)
            query = self._sql.prefixed
            params = (module_key(name), name, prefix, prefix_upper_bound(prefix), min(limit, _MAX_LIMIT))
        else:
            query, params = self._sql.recent, (module_key(name), name, min(limit, _MAX_LIMIT))
        found = self._pool.run("filter", lambda conn: _fetch(conn, query, params), transaction=False)
        return [to_row(module, row) for row in found]

    def list_modules(self) -> List[str]:
        found = self._pool.run(
            "list_modules", lambda conn: _fetch(conn, self._sql.modules), transaction=False
        )
        return [decode(module) for (module,) in found]

    def iter_rows(self) -> Iterator[CallTraceRow]:
        """Every stored row, oldest first across modules, streamed (``tracestore.copy.RowSource``).

        One statement (a consistent snapshot) on a connection of its own, read with an
        unbuffered cursor, so the pool stays free meanwhile. Raises ``TraceStoreError``.
        """
        # A generator, so that it keeps the store (whose finalizer closes the pool) alive.
        if self._pool.closed:
            raise TraceStoreError(f"MySQLStore {self._config.display!r} is closed")
        try:
            conn = connect(self._config)
        except pymysql.Error as exc:
            raise TraceStoreError(
                f"MySQLStore {self._config.display!r}: iter_rows cannot connect: {message(exc)}"
            ) from exc
        try:
            conn.query("SET SESSION net_write_timeout = 3600")  # the reader may pause between chunks
            cursor = conn.cursor(pymysql.cursors.SSCursor)
            cursor.execute(self._sql.oldest_first)
            while True:
                found = cursor.fetchmany(STREAM_CHUNK)
                for module, *rest in found:
                    yield to_row(decode(module), (rest[0], rest[1], rest[2], rest[3]))
                if len(found) < STREAM_CHUNK:
                    break
        except pymysql.Error as exc:
            raise TraceStoreError(
                f"MySQLStore {self._config.display!r}: iter_rows failed: {message(exc)}"
            ) from exc
        finally:
            conn.close()

    def close(self) -> None:
        """Close the pool's connections; the store cannot be used afterwards."""
        self._closer()

    def __enter__(self) -> MySQLStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._config.display!r})"


def _fetch(conn: Connection, query: str, params: Optional[Tuple[Any, ...]] = None) -> List[Any]:
    cursor = conn.cursor()
    cursor.execute(query, params)
    return list(cursor.fetchall())
