"""``MonkeyTypeFileStore``: a plain MonkeyType 23.3.0 file, one table in MonkeyType's own schema.

The way back from ``SQLiteStore``: ``python -m tracestore copy sqlite=ours.sqlite3
monkeytype=plain.sqlite3`` writes a file that MonkeyType, and any tool that reads its
table directly, takes as its own.
"""

from __future__ import annotations

import datetime
import logging
import sqlite3
import threading
from typing import Any, Callable, ClassVar, Iterable, Iterator, List, Optional, TypeVar

from reference_stores.rows import checked_rows
from reference_stores.sqlite import plain
from reference_stores.sqlite.config import SQLiteConfig, parse_connection_string, read_only_connection_string
from reference_stores.sqlite.rows import RowTuple, has_surrogate
from reference_stores.sqlite.schema import ABSENT, MONKEYTYPE, MONKEYTYPE_COLUMNS, Names, classify
from reference_stores.sqlite.txn import connect, transaction
from tracestore import (
    CallTraceRow,
    CallTraceStore,
    CallTraceThunk,
    EncodeError,
    StoreConfigError,
    TraceStoreError,
    check_limit,
)
from tracestore.encoding import serialize_tuples

logger = logging.getLogger(__name__)
T = TypeVar("T")

# MonkeyType 23.3.0's DDL (monkeytype.db.sqlite.create_call_trace_table), column for column.
_CREATE = """
CREATE TABLE IF NOT EXISTS {table} (
  created_at  TEXT,
  module      TEXT,
  qualname    TEXT,
  arg_types   TEXT,
  return_type TEXT,
  yield_type  TEXT);
"""


class MonkeyTypeFileStore(CallTraceStore):
    """Traces in MonkeyType's own file format: one plain table, one row per trace added.

    Connection strings are ``SQLiteStore``'s (``PATH``, ``PATH?table=NAME&timeout=...&mode=ro``,
    ``file:`` URIs).  The table is created with MonkeyType 23.3.0's statement if missing;
    a file holding ``SQLiteStore``'s schema is refused (upgraded files are not plain).
    Writes append rows, as MonkeyType does (``created_at`` is the time of the ``add``),
    so write into a fresh file: copying into it twice stores every row twice.  Reads
    (``sqlite.plain``) answer as every reference store does: distinct rows (S6), most
    recent first by row order (S15), exact module and literal prefix (S2, S3).  No index
    is made, so every ``filter`` scans the table, as MonkeyType's own does.  A name with
    a lone surrogate cannot be stored as SQLite text: ``add`` logs and skips its trace,
    ``add_rows`` raises ``EncodeError``.
    """

    ordered_results = True
    distinct_results = True
    example_connection_string: ClassVar[str] = "{directory}/monkeytype.sqlite3"

    def __init__(self, connection_string: str) -> None:
        self._config = parse_connection_string(connection_string)
        self._names = Names.for_table(self._config.table)
        self._lock = threading.RLock()
        self._conn = self._open()

    @classmethod
    def make_store(cls, connection_string: str) -> MonkeyTypeFileStore:
        return cls(connection_string)

    @classmethod
    def make_read_only_store(cls, connection_string: str) -> MonkeyTypeFileStore:
        """The file ``connection_string`` names, read-only (``mode=ro`` added unless it has a mode)."""
        return cls(read_only_connection_string(connection_string))

    @property
    def config(self) -> SQLiteConfig:
        return self._config

    def add(self, traces: Iterable[Any]) -> None:
        storable = []
        for row in serialize_tuples(traces):
            if _unstorable(row):
                logger.error(
                    "Cannot store a trace of %r.%r in SQLite text (a lone surrogate)", row[0], row[1]
                )
            else:
                storable.append(row)
        self._insert(storable)

    def add_rows(self, rows: Iterable[Any]) -> Optional[int]:
        """Append rows as they are (``tracestore.copy.RowSink``); ``EncodeError`` for one SQLite cannot hold.

        Returns None: the file keeps every row appended, so "new" has no meaning here.
        """
        tuples = [row.as_tuple() for row in checked_rows(rows)]
        for index, row in enumerate(tuples):
            if _unstorable(row):
                raise EncodeError(f"add_rows: row {index} ({row[0]!r}:{row[1]!r}) holds a lone surrogate")
        self._insert(tuples)
        return None

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        check_limit(limit)
        if not isinstance(module, str):
            raise TypeError(f"module must be a str, not {type(module).__name__}")
        if limit == 0:
            return []
        found = self._read(
            lambda conn: plain.newest_matching(conn, self._names, module, qualname_prefix or "", limit)
        )
        return [CallTraceRow(module, qualname, a, r, y) for qualname, a, r, y in found]

    def list_modules(self) -> List[str]:
        return self._read(lambda conn: plain.modules(conn, self._names))

    def iter_rows(self) -> Iterator[CallTraceRow]:
        """Every distinct row at its latest place, oldest first (``tracestore.copy.RowSource``)."""
        return plain.stream_rows(self._read, self._names)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._config.display!r})"

    def _insert(self, rows: List[RowTuple]) -> None:
        if self._config.read_only:
            raise TraceStoreError(f"add: {self!r} was opened read-only (mode=ro)")
        if not rows:
            return
        now = str(datetime.datetime.now())  # the text MonkeyType's datetime adapter writes
        marks = ", ".join("?" * len(MONKEYTYPE_COLUMNS))
        sql = f"INSERT INTO {self._names.q_table} VALUES ({marks})"
        values = [(now, *row) for row in rows]
        with self._lock:
            transaction(
                self._conn, self._config.timeout, lambda: self._conn.executemany(sql, values), write=True
            )

    def _read(self, body: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            return transaction(self._conn, self._config.timeout, lambda: body(self._conn), write=False)

    def _open(self) -> sqlite3.Connection:
        display = f"MonkeyTypeFileStore connection string {self._config.display!r}"
        try:
            conn = connect(self._config)
        except sqlite3.Error as exc:
            raise StoreConfigError(f"{display}: cannot open a SQLite file there: {exc}") from exc
        try:
            layout = transaction(conn, self._config.timeout, lambda: classify(conn, self._names), write=False)
            if layout == ABSENT and not self._config.read_only:
                create = _CREATE.format(
                    table=self._names.table
                )  # an identifier (config checks): as MonkeyType writes it
                transaction(conn, self._config.timeout, lambda: conn.execute(create), write=True)
            elif layout == ABSENT:
                raise StoreConfigError(f"{display}: the file has no table {self._names.table!r}")
            elif layout != MONKEYTYPE:
                raise StoreConfigError(
                    f"{display}: {self._names.table!r} is a tracestore SQLiteStore's view, not MonkeyType's "
                    "plain table; copy it into a new file instead"
                )
        except StoreConfigError as exc:
            conn.close()
            if str(exc).startswith(display):
                raise
            raise StoreConfigError(f"{display}: {exc}") from None
        except BaseException:
            conn.close()
            raise
        return conn


def _unstorable(row: RowTuple) -> bool:
    return any(isinstance(field, str) and has_surrogate(field) for field in row)
