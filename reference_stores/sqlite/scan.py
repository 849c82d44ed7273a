"""``SQLiteStore.iter_rows``: every stored row, oldest first across modules, streamed in short reads.

A module's rows are one ``seq`` range, oldest first, and the low bits of ``seq`` are the
store's clock (see ``sqlite.rows``).  Each module is read forwards in chunks, each chunk
one short read transaction by primary key (no sort, no open cursor between chunks, so
writers and other threads are never held up), and the modules are merged on the clock.
Rows MonkeyType wrote since the last ``add`` (``incoming``) are newer than all of them:
they come last, and a stored row that one of them repeats is left out of its old place.

Rows added while the iteration runs may or may not be included; a row added again
meanwhile may be yielded at its old place and at its new one.
"""

from __future__ import annotations

import heapq
import sqlite3
from functools import partial
from operator import itemgetter
from typing import Any, Callable, Dict, Iterator, List, Set, Tuple, TypeVar

from reference_stores.sqlite.rows import RowTuple, module_range, unescape
from reference_stores.sqlite.schema import Names
from tracestore import CallTraceRow

T = TypeVar("T")
Reader = Callable[[Callable[[sqlite3.Connection], T]], T]  # runs a function in a read transaction
Ticked = Tuple[int, RowTuple]  # a row and its clock tick

BUFFERED_ROWS = 20_000  # rows held at once across all modules' chunks
MIN_CHUNK = 64


def stream_rows(read: Reader[Any], names: Names) -> Iterator[CallTraceRow]:
    """Every row of the store, oldest first (each distinct row once, at its latest place)."""
    modules, incoming = read(lambda conn: (_modules(conn, names), _incoming(conn, names)))
    later: Set[RowTuple] = set(incoming)
    chunk = max(MIN_CHUNK, BUFFERED_ROWS // max(1, len(modules)))
    streams = [_module_rows(read, names, module_id, name, chunk) for module_id, name in modules]
    for _, row in heapq.merge(*streams, key=itemgetter(0)):  # ties: the lower module id first
        if row not in later:
            yield CallTraceRow(*row)
    for row in incoming:
        yield CallTraceRow(*row)


def _modules(conn: sqlite3.Connection, names: Names) -> List[Tuple[int, str]]:
    rows = conn.execute(f"SELECT id, name FROM {names.q_modules} ORDER BY id")
    return [(int(module_id), unescape(str(name))) for module_id, name in rows]


def _incoming(conn: sqlite3.Connection, names: Names) -> List[RowTuple]:
    """MonkeyType's rows not yet folded in, distinct, each at its last place, oldest first."""
    if conn.execute(f"SELECT 1 FROM {names.q_incoming} LIMIT 1").fetchone() is None:
        return []
    latest: Dict[RowTuple, None] = {}
    rows = conn.execute(
        f"SELECT module, qualname, arg_types, return_type, yield_type FROM {names.q_incoming} ORDER BY rowid"
    )
    for module, qualname, arg_types, return_type, yield_type in rows:
        if isinstance(module, str) and isinstance(qualname, str):  # as add folds them in
            row = (module, qualname, arg_types, return_type, yield_type)
            latest.pop(row, None)
            latest[row] = None
    return list(latest)


def _module_rows(
    read: Reader[Any], names: Names, module_id: int, module: str, chunk: int
) -> Iterator[Ticked]:
    """One module's rows, oldest first, with their ticks; ``chunk`` rows per read."""
    low, high = module_range(module_id)
    sql = (
        "SELECT r.seq, f.qualname, t.arg_types, t.return_type, t.yield_type "
        f"FROM {names.q_recent} AS r CROSS JOIN {names.q_traces} AS t ON t.id = r.trace_id "
        f"CROSS JOIN {names.q_funcs} AS f ON f.id = r.func_id "
        "WHERE r.seq > ? AND r.seq < ? ORDER BY r.seq LIMIT ?"
    )
    after = low - 1
    while True:
        found: List[Tuple[Any, ...]] = read(partial(_fetch, sql=sql, params=(after, high, chunk)))
        for seq, qualname, arg_types, return_type, yield_type in found:
            yield seq - low, (module, unescape(qualname), arg_types, return_type, yield_type)
        if len(found) < chunk:
            return
        after = found[-1][0]


def _fetch(conn: sqlite3.Connection, sql: str, params: Tuple[Any, ...]) -> List[Tuple[Any, ...]]:
    return conn.execute(sql, params).fetchall()
