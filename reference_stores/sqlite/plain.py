"""Reading MonkeyType's own plain table as it is, never writing: before (or instead of) the upgrade.

The semantics are the store's (not MonkeyType's SQL): the module is compared exactly
(S2), the prefix is a literal range of qualnames (S3, as ``sqlite.plans``), each
distinct row counts once at its latest place (S6), and recency is row-id order (S5,
S15; MonkeyType's ``created_at`` timestamps are never consulted).  Rows whose module or
qualname is not text are left out, as the upgrade leaves them out.  Every query is a
scan of the table, as MonkeyType's own ``filter`` is; the upgrade makes them indexed.
"""

from __future__ import annotations

import sqlite3
from array import array
from functools import partial
from typing import Any, Callable, Iterator, List, Tuple, TypeVar

from reference_stores.sqlite.plans import prefix_upper_bound
from reference_stores.sqlite.rows import LOOKUP_CHUNK, has_surrogate
from reference_stores.sqlite.schema import Names
from tracestore import CallTraceRow

T = TypeVar("T")
Reader = Callable[[Callable[[sqlite3.Connection], T]], T]  # runs a function in a read transaction
Match = Tuple[str, Any, Any, Any]  # qualname, arg_types, return_type, yield_type

MAX_SQL_LIMIT = 2**63 - 1
_NAMED = "typeof(module) = 'text' AND typeof(qualname) = 'text'"
_FIELDS = "module, qualname, arg_types, return_type, yield_type"


def newest_matching(conn: sqlite3.Connection, n: Names, module: str, prefix: str, limit: int) -> List[Match]:
    """The ``limit`` newest distinct rows of ``module`` whose qualname starts with ``prefix``."""
    if has_surrogate(module) or has_surrogate(prefix):
        return []  # sqlite3 cannot have written such a name
    sql = (
        f"SELECT qualname, arg_types, return_type, yield_type FROM {n.q_table} WHERE module = ? AND {_NAMED}"
    )
    params: Tuple[Any, ...] = (module,)
    if prefix:
        sql += " AND qualname >= ?"
        params += (prefix,)
        high = prefix_upper_bound(prefix)
        if high is not None:
            sql += " AND qualname < ?"
            params += (high,)
    sql += " GROUP BY qualname, arg_types, return_type, yield_type ORDER BY max(rowid) DESC LIMIT ?"
    rows = conn.execute(sql, (*params, min(limit, MAX_SQL_LIMIT)))
    return [(str(qualname), a, r, y) for qualname, a, r, y in rows]


def modules(conn: sqlite3.Connection, n: Names) -> List[str]:
    """Each module with a row, once, sorted."""
    return sorted(
        str(name) for (name,) in conn.execute(f"SELECT DISTINCT module FROM {n.q_table} WHERE {_NAMED}")
    )


def stream_rows(read: Reader[Any], n: Names) -> Iterator[CallTraceRow]:
    """Every distinct row at its latest place, oldest first, in short reads.

    One read finds the row id of each distinct row's latest occurrence (8 bytes a row,
    sorted by SQLite, spilling to its temporary files); the rows are then fetched by id,
    ``LOOKUP_CHUNK`` at a time.  Rows added meanwhile are not included.
    """
    latest = read(lambda conn: _latest_rowids(conn, n))
    sql_head = f"SELECT {_FIELDS} FROM {n.q_table} WHERE rowid IN "
    for start in range(0, len(latest), LOOKUP_CHUNK):
        chunk = latest[start : start + LOOKUP_CHUNK].tolist()
        sql = sql_head + "(" + ", ".join("?" * len(chunk)) + ") ORDER BY rowid"
        for row in read(partial(_fetch, sql=sql, params=chunk)):
            yield CallTraceRow(*row)


def _fetch(conn: sqlite3.Connection, sql: str, params: List[int]) -> List[Tuple[Any, ...]]:
    return conn.execute(sql, params).fetchall()


def _latest_rowids(conn: sqlite3.Connection, n: Names) -> array[int]:
    ids: array[int] = array("q")
    cursor = conn.execute(
        f"SELECT max(rowid) AS latest FROM {n.q_table} WHERE {_NAMED} "
        "GROUP BY module, qualname, arg_types, return_type, yield_type ORDER BY latest"
    )
    while True:
        found: List[Tuple[int]] = cursor.fetchmany(10_000)
        if not found:
            return ids
        ids.extend(rowid for (rowid,) in found)
