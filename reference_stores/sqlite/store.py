"""``SQLiteStore``: distinct traces, most recent first, in a SQLite file MonkeyType can read."""

from __future__ import annotations

import datetime
import logging
import os
import sqlite3
import threading
from typing import Any, Callable, ClassVar, Iterable, Iterator, List, Optional, Tuple, TypeVar

from reference_stores.rows import checked_rows
from reference_stores.sqlite import plain
from reference_stores.sqlite.config import SQLiteConfig, parse_connection_string, read_only_connection_string
from reference_stores.sqlite.plans import Match, newest_matching, pending_incoming
from reference_stores.sqlite.rows import (
    IdCache,
    StaleCacheError,
    has_surrogate,
    ingest_incoming,
    latest_distinct,
    unescape,
    write_rows,
)
from reference_stores.sqlite.scan import stream_rows
from reference_stores.sqlite.schema import (
    ABSENT,
    CURRENT,
    MONKEYTYPE,
    SEQ_BITS,
    Names,
    classify,
    create_or_upgrade,
    is_current,
    table_kind,
)
from reference_stores.sqlite.txn import connect, enable_wal, retrying, transaction
from tracestore import (
    CallTraceRow,
    CallTraceStore,
    CallTraceThunk,
    EncodeError,
    StoreConfigError,
    TraceStoreError,
    check_limit,
)
from tracestore.encoding import RowTuple, serialize_tuples

logger = logging.getLogger(__name__)
T = TypeVar("T")

_SIDE_FILES = ("", "-wal", "-shm", "-journal")
_ABANDONED: List[sqlite3.Connection] = []  # connections inherited over fork(): never touched again


MAX_LIMIT = 2**62
"""Larger limits are cut to this: SQLite binds 64-bit integers only, and no file holds more rows."""


class SQLiteStore(CallTraceStore):
    """Distinct traces (S6), most recent first (S15), in one SQLite file.

    Connection strings:

    * ``PATH``: a file, created if missing (its directory must exist);
    * ``PATH?table=NAME&timeout=SECONDS&synchronous=MODE&mode=ro``: every parameter optional.
      ``table`` (default ``monkeytype_call_traces``, MonkeyType's) is an identifier of
      letters, digits and ``_``; ``timeout`` (default 60) is how long a writer waits for
      another's lock; ``synchronous`` is ``NORMAL`` (default: a process crash loses
      nothing, a power cut may lose the last adds but never corrupts) or ``FULL``/``EXTRA``;
      ``mode=ro`` opens an existing file read-only (SQLite's ``mode=ro``): ``add`` raises
      ``TraceStoreError`` and the file is never written;
    * ``:memory:`` (same parameters but ``mode``): a private in-memory store for this object;
    * ``file:PATH?...``: a SQLite URI; SQLite's own parameters (``mode=ro``, ``vfs``,
      ``immutable=1`` for a file that nothing changes meanwhile, ...) pass through, ours are
      as above.  Use it for a path that contains ``?``.

    A string that cannot name a store raises ``tracestore.StoreConfigError`` naming it and
    saying why, and leaves no file behind (S14).

    The file stays readable by MonkeyType 23.3.0 (``MT_DB_PATH=PATH monkeytype stub ...``).
    Opening never writes to a file that holds a table: a file MonkeyType wrote is read as
    it is (``sqlite.plain``) until the first ``add`` (or ``upgrade()``, ``python -m
    tracestore upgrade PATH``) upgrades it in place, losing no trace, and compacts it;
    even MonkeyType's own later writes to it are kept.  A file without the table gets our
    schema at open (unless read-only).  Schema, recency and query plans:
    ``sqlite.schema``, ``sqlite.rows`` and ``sqlite.plans``.  Concurrency: WAL, a busy
    timeout and retried ``BEGIN IMMEDIATE`` transactions (``sqlite.txn``); threads share
    one connection under a lock, and a forked child opens its own.
    """

    ordered_results = True
    distinct_results = True
    example_connection_string: ClassVar[str] = "{directory}/traces.sqlite3"

    def __init__(self, connection_string: str) -> None:
        self._config = parse_connection_string(connection_string)
        self._names = Names.for_table(self._config.table)
        self._lock = threading.RLock()
        self._ids = IdCache()
        self._layout = CURRENT  # what the table is: CURRENT, MONKEYTYPE or ABSENT (set by the open)
        self._conn = self._open_and_prepare()
        self._pid = os.getpid()

    @classmethod
    def make_store(cls, connection_string: str) -> SQLiteStore:
        return cls(connection_string)

    @classmethod
    def make_read_only_store(cls, connection_string: str) -> SQLiteStore:
        """The store ``connection_string`` names, read-only (``mode=ro`` added unless it has a mode)."""
        return cls(read_only_connection_string(connection_string))

    @property
    def config(self) -> SQLiteConfig:
        return self._config

    # -- the interface -------------------------------------------------------------

    def add(self, traces: Iterable[Any]) -> None:
        """Store every serializable trace in one transaction (all or nothing); S7, S13."""
        self._check_writable("add")
        self._store(serialize_tuples(traces))

    def add_rows(self, rows: Iterable[Any]) -> int:
        """Store encoded rows as they are, like ``add`` (``tracestore.copy.RowSink``).

        Raises ``EncodeError``, storing nothing, for a row with a field of the wrong type,
        or with a lone surrogate in a JSON field (SQLite text is UTF-8).  Returns how many
        of the distinct rows were not stored before.
        """
        self._check_writable("add_rows")
        checked = checked_rows(rows)
        for index, row in enumerate(checked):
            for name in ("arg_types", "return_type", "yield_type"):
                text = getattr(row, name)
                if text is not None and has_surrogate(text):
                    raise EncodeError(
                        f"add_rows: row {index} ({row.module}:{row.qualname}): field {name!r} holds a "
                        "lone surrogate, which SQLite text cannot store"
                    )
        return self._store(map(CallTraceRow.as_tuple, checked))

    def iter_rows(self) -> Iterator[CallTraceRow]:
        """Every stored row, oldest first across modules, streamed (``tracestore.copy.RowSource``).

        See ``sqlite.scan`` for what a concurrent write does to the iteration.  A MonkeyType
        table not yet upgraded is read as it is (``sqlite.plain.stream_rows``).
        """
        layout = self._read(self._layout_now)
        if layout == MONKEYTYPE:
            return plain.stream_rows(self._read, self._names)
        if layout == ABSENT:
            return iter(())
        return stream_rows(self._read, self._names)

    def upgrade(self) -> bool:
        """Bring the file to the current schema and compact it; True if MonkeyType's table was upgraded.

        One transaction moves MonkeyType's rows into our tables (all or nothing: a crash
        leaves the old file), then ``VACUUM`` (itself one transaction) gives the dropped
        table's pages back, so the file holds no free pages.  Called by the first ``add``;
        a no-op, except compacting, on a current file.
        """
        self._check_writable("upgrade")
        names = self._names
        with self._lock:
            conn = self._connection()
            was = transaction(conn, self._config.timeout, lambda: classify(conn, names), write=False)

            def upgrade(created: IdCache) -> None:
                if not is_current(conn, names):  # another process may have done it meanwhile
                    create_or_upgrade(conn, names)
                    ingest_incoming(conn, names, self._ids, created)

            if was != CURRENT:
                self._write(conn, upgrade)
            (free,) = conn.execute("PRAGMA freelist_count").fetchone()
            if free and self._config.path is not None:
                retrying(self._config.timeout, lambda: conn.execute("VACUUM"))
            enable_wal(conn, self._config)
            self._layout = CURRENT
        return was == MONKEYTYPE

    def _check_writable(self, what: str) -> None:
        if self._config.read_only:
            raise TraceStoreError(f"{what}: {self!r} was opened read-only (mode=ro)")

    def _layout_now(self, conn: sqlite3.Connection) -> str:
        """In a transaction: what the table is now (another process may have upgraded it)."""
        if self._layout == CURRENT:
            return CURRENT  # never goes back
        kind = table_kind(conn, self._names)
        return MONKEYTYPE if kind == "table" else ABSENT if kind is None else CURRENT

    def _store(self, encoded: Iterable[RowTuple]) -> int:
        """Store rows in one transaction (all or nothing), each distinct row at its last place."""
        now = str(datetime.datetime.now())
        rows = [(row, now) for row in latest_distinct(encoded)]
        if not rows:
            return 0
        new = [0]
        with self._lock:
            if self._layout != CURRENT:
                self.upgrade()
            conn = self._connection()

            def write(created: IdCache) -> None:
                ingest_incoming(conn, self._names, self._ids, created)
                new[0] = write_rows(conn, self._names, rows, self._ids, created)

            self._write(conn, write)
        return new[0]

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        """The ``limit`` newest distinct traces of ``module`` whose qualname starts with the prefix."""
        check_limit(limit)
        if not isinstance(module, str):
            raise TypeError(f"module must be a str, not {type(module).__name__}")
        prefix = qualname_prefix or ""
        if limit == 0:
            return []
        limit = min(limit, MAX_LIMIT)  # SQLite's LIMIT is a signed 64-bit integer (S4: any int)
        with self._lock:
            conn = self._connection()

            def read() -> Tuple[List[Tuple[str, str, Any, Any, Any]], List[Match]]:
                layout = self._layout_now(conn)
                if layout != CURRENT:
                    found = plain.newest_matching(conn, self._names, module, prefix, limit)
                    return [], found if layout == MONKEYTYPE else []
                pending = pending_incoming(conn, self._names, module, prefix, limit)
                return pending, newest_matching(conn, self._names, module, prefix, limit + len(pending))

            pending, found = transaction(conn, self._config.timeout, read, write=False)
        if not pending:
            return [CallTraceRow(module, qualname, a, r, y) for qualname, a, r, y in found]
        result: List[CallTraceThunk] = [CallTraceRow(*row) for row in pending]
        seen = set(pending)
        for qualname, arg_types, return_type, yield_type in found:
            if len(result) >= limit:
                break
            if (module, qualname, arg_types, return_type, yield_type) in seen:
                continue
            result.append(CallTraceRow(module, qualname, arg_types, return_type, yield_type))
        return result

    def list_modules(self) -> List[str]:
        """Each module with a stored trace, once (S12)."""
        n = self._names
        with self._lock:
            conn = self._connection()

            def read() -> List[str]:
                layout = self._layout_now(conn)
                if layout != CURRENT:
                    return plain.modules(conn, n) if layout == MONKEYTYPE else []
                rows = conn.execute(
                    f"SELECT name FROM {n.q_modules} AS m WHERE EXISTS (SELECT 1 FROM {n.q_recent} "
                    f"WHERE seq >= (m.id << {SEQ_BITS}) AND seq < ((m.id + 1) << {SEQ_BITS})) "
                    f"UNION SELECT module FROM {n.q_incoming} WHERE typeof(module) = 'text'"
                )
                return sorted({unescape(str(name)) for (name,) in rows})

            return transaction(conn, self._config.timeout, read, write=False)

    def _read(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """``body(connection)`` in one read transaction, under the lock."""
        with self._lock:
            conn = self._connection()
            return transaction(conn, self._config.timeout, lambda: body(conn), write=False)

    def close(self) -> None:
        """Close the connection; the store cannot be used afterwards."""
        with self._lock:
            if self._pid == os.getpid():
                self._conn.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._config.display!r})"

    # -- connections ---------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This process's connection: a forked child must not use its parent's."""
        pid = os.getpid()
        if pid != self._pid and self._config.path is not None:
            _ABANDONED.append(self._conn)  # closing it could disturb the parent's locks
            self._conn = connect(self._config)
            self._pid = pid
        return self._conn

    def _open_and_prepare(self) -> sqlite3.Connection:
        """Connect and bring the schema up to date; else ``StoreConfigError``, leaving no new file."""
        path = self._config.path
        existed = {suffix for suffix in _SIDE_FILES if path is not None and os.path.exists(path + suffix)}
        conn: Optional[sqlite3.Connection] = None
        try:
            conn = connect(self._config)
            self._prepare_schema(conn)
            return conn
        except (sqlite3.Error, StoreConfigError) as exc:
            if conn is not None:
                conn.close()
            if path is not None and "" not in existed:
                for suffix in _SIDE_FILES:
                    if suffix not in existed:
                        _remove(path + suffix)
            where = f"SQLiteStore connection string {self._config.display!r}"
            if isinstance(exc, StoreConfigError):
                raise StoreConfigError(f"{where}: {exc}") from None
            raise StoreConfigError(f"{where}: cannot open a SQLite store there: {exc}") from exc

    def _prepare_schema(self, conn: sqlite3.Connection) -> None:
        """Check what the table is, writing nothing unless it is missing (or ours, half made)."""
        names = self._names
        layout = transaction(conn, self._config.timeout, lambda: classify(conn, names), write=False)
        if layout == MONKEYTYPE or self._config.read_only:
            self._layout = ABSENT if layout == ABSENT else MONKEYTYPE if layout == MONKEYTYPE else CURRENT
            return
        if layout != CURRENT:

            def create(created: IdCache) -> None:
                if table_kind(conn, names) != "table" and not is_current(conn, names):
                    create_or_upgrade(conn, names)
                    ingest_incoming(conn, names, self._ids, created)

            self._write(conn, create)
        self._layout = CURRENT if table_kind(conn, names) == "view" else MONKEYTYPE  # MonkeyType raced us
        if self._layout == CURRENT:
            enable_wal(conn, self._config)

    def _write(self, conn: sqlite3.Connection, body: Callable[[IdCache], None]) -> None:
        """Run ``body`` in a write transaction; remember the ids it created once it committed."""

        def attempt() -> IdCache:
            created = IdCache()
            body(created)
            return created

        try:
            created = transaction(conn, self._config.timeout, attempt, write=True)
        except StaleCacheError:
            self._ids.clear()  # rows were deleted behind our back: forget every id, try once more
            created = transaction(conn, self._config.timeout, attempt, write=True)
        self._ids.merge(created)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.warning("Could not remove %s after a failed open: %s", path, exc)
