"""How ``SQLiteStore.filter`` finds the newest matching rows while reading O(limit) of them.

Recency is the small ``recent`` table (see ``sqlite.rows``): a module's rows are one
contiguous ``seq`` range, newest last, and the ``func_id`` index lists each function's
rows newest first.  Traces are fetched by id only for rows that are returned.  The
prefix is a literal range over the small functions table: ``qualname >= prefix AND
qualname < prefix_upper_bound(prefix)`` (no LIKE, GLOB or case folding; S3).  Given the
``Q`` matching functions out of the module's ``F``:

* ``module`` plan (no prefix, or ``Q == F``): read the module's range newest first,
  ``LIMIT limit``.  O(limit).
* ``merge`` plan: one newest-first cursor per matching function, merged on ``seq`` with a
  heap.  O(Q + limit log Q) whatever the density of matches: the sparse-prefix plan.
* ``scan`` plan: read the module's ``(seq, func_id, trace_id)`` newest first, keeping
  rows of matching functions, then fetch those traces.  O(limit * F / Q) when matches
  are spread evenly: the dense-prefix plan.  It stops after a budget of rows and falls
  back to ``merge``, so a skewed module costs at most the budget more.

``choose_plan`` picks ``scan`` when the rows it expects to read cost less than ``merge``'s
cursors (few functions, or a sparse prefix: ``merge``; a prefix matching many of many
functions: ``scan``).  Both are bounded by the number of functions and ``limit``, never
by the number of stored traces (repeats are deduplicated at write time, so they cost
nothing here).
"""

from __future__ import annotations

import heapq
import itertools
import sqlite3
from operator import itemgetter
from typing import Any, Dict, Iterator, List, Optional, Tuple

from reference_stores.sqlite.rows import LOOKUP_CHUNK, escape, has_surrogate, module_range, unescape
from reference_stores.sqlite.schema import Names

Match = Tuple[str, Any, Any, Any]  # qualname (unescaped), arg_types, return_type, yield_type
Found = Tuple[int, str, Any, Any, Any]  # a match and its seq, to merge on

# One merge cursor costs about as much as the scan reading this many rows (measured by
# tests/benchmarks/bench_sqlite.py: ~90 on CPython 3.11; both plans pay alike per row returned).
MERGE_STREAM_COST = 64
SCAN_BUDGET_FACTOR = 3  # the scan plan reads at most this times its expected rows


def prefix_upper_bound(prefix: str) -> Optional[str]:
    """The least string above every string that starts with ``prefix`` (None: no bound).

    Code-point order is UTF-8 byte order, which is SQLite's BINARY order.  Lone
    surrogates never reach SQLite (they are escaped), so the successor of U+D7FF is U+E000.
    """
    chars = list(prefix)
    while chars:
        code = ord(chars[-1])
        if code < 0x10FFFF:
            code += 1
            if 0xD800 <= code <= 0xDFFF:
                code = 0xE000
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


def module_id(conn: sqlite3.Connection, names: Names, module: str) -> Optional[int]:
    found = conn.execute(f"SELECT id FROM {names.q_modules} WHERE name = ?", (escape(module),)).fetchone()
    return None if found is None else int(found[0])


def newest_in_module(conn: sqlite3.Connection, names: Names, mod_id: int, limit: int) -> List[Match]:
    """The ``module`` plan."""
    low, high = module_range(mod_id)
    rows = conn.execute(
        "SELECT f.qualname, t.arg_types, t.return_type, t.yield_type "
        f"FROM {names.q_recent} AS r CROSS JOIN {names.q_traces} AS t ON t.id = r.trace_id "
        f"CROSS JOIN {names.q_funcs} AS f ON f.id = r.func_id "
        "WHERE r.seq >= ? AND r.seq < ? ORDER BY r.seq DESC LIMIT ?",
        (low, high, limit),
    )
    return [(unescape(qualname), a, r, y) for qualname, a, r, y in rows]


def matching_funcs(conn: sqlite3.Connection, names: Names, mod_id: int, prefix: str) -> Dict[int, str]:
    """Function id to (unescaped) qualname, for the module's functions matching ``prefix``."""
    low = escape(prefix)
    high = prefix_upper_bound(low)
    sql = f"SELECT id, qualname FROM {names.q_funcs} WHERE module_id = ? AND qualname >= ?"
    params: Tuple[Any, ...] = (mod_id, low)
    if high is not None:
        sql += " AND qualname < ?"
        params += (high,)
    return {int(fid): unescape(qualname) for fid, qualname in conn.execute(sql, params)}


def count_funcs(conn: sqlite3.Connection, names: Names, mod_id: int) -> int:
    (count,) = conn.execute(f"SELECT count(*) FROM {names.q_funcs} WHERE module_id = ?", (mod_id,)).fetchone()
    return int(count)


def newest_of_func(
    conn: sqlite3.Connection, names: Names, func_id: int, qualname: str, limit: int
) -> Iterator[Found]:
    rows = conn.execute(
        "SELECT r.seq, t.arg_types, t.return_type, t.yield_type "
        f"FROM {names.q_recent} AS r CROSS JOIN {names.q_traces} AS t ON t.id = r.trace_id "
        "WHERE r.func_id = ? ORDER BY r.seq DESC LIMIT ?",
        (func_id, limit),
    )
    return ((seq, qualname, a, r, y) for seq, a, r, y in rows)


def merge(conn: sqlite3.Connection, names: Names, funcs: Dict[int, str], limit: int) -> List[Match]:
    """The ``merge`` plan: cursors are read lazily, so about ``limit + len(funcs)`` rows are fetched."""
    streams = [newest_of_func(conn, names, fid, qualname, limit) for fid, qualname in funcs.items()]
    merged = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=itemgetter(0), reverse=True)
    return [found[1:] for found in itertools.islice(merged, limit)]


def scan(
    conn: sqlite3.Connection, names: Names, mod_id: int, funcs: Dict[int, str], limit: int, budget: int
) -> Optional[List[Match]]:
    """The ``scan`` plan; None when ``budget`` rows were read without finding ``limit`` matches."""
    low, high = module_range(mod_id)
    rows = conn.execute(
        f"SELECT func_id, trace_id FROM {names.q_recent} "
        "WHERE seq >= ? AND seq < ? ORDER BY seq DESC LIMIT ?",
        (low, high, budget),
    )
    picked: List[Tuple[int, int]] = []
    read = 0
    for read, (func_id, trace_id) in enumerate(rows, 1):  # noqa: B007  # read counts the rows
        if func_id in funcs:
            picked.append((func_id, trace_id))
            if len(picked) == limit:
                break
    if len(picked) < limit and read == budget:
        return None
    traces = _traces_by_id(conn, names, [trace_id for _, trace_id in picked])
    return [(funcs[func_id], *traces[trace_id]) for func_id, trace_id in picked]


def _traces_by_id(conn: sqlite3.Connection, names: Names, ids: List[int]) -> Dict[int, Tuple[Any, Any, Any]]:
    found: Dict[int, Tuple[Any, Any, Any]] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT id, arg_types, return_type, yield_type FROM {names.q_traces} WHERE id IN ({marks})"
        found.update((tid, (a, r, y)) for tid, a, r, y in conn.execute(sql, chunk))
    return found


def choose_plan(matching: int, functions: int, limit: int) -> str:
    """``module``, ``merge`` or ``scan`` for ``matching`` of the module's ``functions`` (see module doc)."""
    if matching >= functions:
        return "module"
    if matching == 1:
        return "merge"
    expected_scan_rows = limit * functions / matching
    return "scan" if expected_scan_rows <= MERGE_STREAM_COST * matching else "merge"


def newest_matching(
    conn: sqlite3.Connection, names: Names, module: str, prefix: str, limit: int
) -> List[Match]:
    """The ``limit`` newest rows of ``module`` whose qualname starts with ``prefix``, newest first."""
    mod_id = module_id(conn, names, module)
    if mod_id is None or limit == 0:
        return []
    if not prefix:
        return newest_in_module(conn, names, mod_id, limit)
    funcs = matching_funcs(conn, names, mod_id, prefix)
    if not funcs:
        return []
    functions = count_funcs(conn, names, mod_id)
    plan = choose_plan(len(funcs), functions, limit)
    if plan == "module":
        return newest_in_module(conn, names, mod_id, limit)
    if plan == "scan":
        budget = int(SCAN_BUDGET_FACTOR * limit * functions / len(funcs)) + 64
        found = scan(conn, names, mod_id, funcs, limit, budget)
        if found is not None:
            return found
    return merge(conn, names, funcs, limit)


def pending_incoming(
    conn: sqlite3.Connection, names: Names, module: str, prefix: str, limit: int
) -> List[Tuple[str, str, Any, Any, Any]]:
    """Distinct matching rows that MonkeyType wrote since our last ``add``, newest first.

    They are newer than every row of the traces table (``add`` folds them in first).
    Usually there are none, and one indexed probe says so.
    """
    if limit == 0 or conn.execute(f"SELECT 1 FROM {names.q_incoming} LIMIT 1").fetchone() is None:
        return []
    if has_surrogate(module):
        return []  # no sqlite3 client can have written it
    rows = conn.execute(
        f"SELECT module, qualname, arg_types, return_type, yield_type FROM {names.q_incoming} "
        "WHERE module = ? ORDER BY rowid DESC",
        (module,),
    )
    found: Dict[Tuple[str, str, Any, Any, Any], None] = {}
    for row in rows:
        qualname = row[1]
        if isinstance(qualname, str) and qualname.startswith(prefix):
            found.setdefault((module, qualname, row[2], row[3], row[4]), None)
            if len(found) == limit:
                break
    return list(found)
