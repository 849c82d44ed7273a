"""How ``SQLiteStore`` writes rows: name escaping, the dedupe digest, recency numbers.

* SQLite text is UTF-8, so a lone surrogate in a module or qualname cannot be bound.
  ``escape`` writes each surrogate (and the escape character ``\\x01`` itself) as ``\\x01``
  plus four hex digits; every other character stands for itself.  The code is prefix-free,
  so equality (S2) and ``startswith`` (S3) are the same on escaped text.  MonkeyType's JSON
  is ASCII, so only module and qualname go through it; ordinary names are stored unchanged.
* A trace is identified by a 128-bit BLAKE2b digest of its five stored fields (``digest``,
  unique in the traces table), so a re-add replaces the old row instead of adding one (S6).
* ``seq`` (the row id) is ``module_id << 40`` plus a counter that grows with every write to
  that module: the newest rows of one module are the highest ids of one contiguous range,
  so ``filter`` reads them in order straight from the table (S5, S15).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
import sqlite3
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from reference_stores.sqlite_schema import Names
from tracestore import CallTraceRow, TraceStoreError

logger = logging.getLogger(__name__)

SEQ_BITS = 40  # recency counter bits per module
MAX_MODULE_ID = (1 << (63 - SEQ_BITS)) - 1
INGEST_CHUNK = 20_000

_UNSTORABLE = re.compile("[\x01\ud800-\udfff]")
_ESCAPED = re.compile("\x01([0-9a-f]{4})")
_SURROGATE = re.compile("[\ud800-\udfff]")

RowTuple = Tuple[str, str, Any, Any, Any]  # module, qualname, arg_types, return_type, yield_type
# module, qualname (both escaped), digest, created_at, arg_types, return_type, yield_type
Prepared = Tuple[str, str, bytes, Optional[str], Any, Any, Any]


def escape(text: str) -> str:
    """``text`` as SQLite can store it (see the module docstring)."""
    if text.isascii() and "\x01" not in text:
        return text
    return _UNSTORABLE.sub(lambda m: f"\x01{ord(m.group()):04x}", text)


def has_surrogate(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None


def unescape(text: str) -> str:
    """The inverse of ``escape``."""
    if "\x01" not in text:
        return text
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def module_range(module_id: int) -> Tuple[int, int]:
    """The half-open range of ``seq`` values of one module's rows."""
    return module_id << SEQ_BITS, (module_id + 1) << SEQ_BITS


def digest(module: str, qualname: str, arg_types: Any, return_type: Any, yield_type: Any) -> bytes:
    """The dedupe key of a row whose module and qualname are already escaped.

    Each field is written with a type tag and its length, so no two different rows
    produce the same bytes (values of any SQLite type are handled: MonkeyType files
    may hold NULLs or blobs where text belongs).
    """
    h = hashlib.blake2b(digest_size=16)
    for field in (module, qualname, arg_types, return_type, yield_type):
        if field is None:
            h.update(b"N")
            continue
        if isinstance(field, str):
            tag, data = b"S", field.encode("utf-8", "surrogatepass")
        elif isinstance(field, bytes):
            tag, data = b"B", field
        else:
            tag, data = b"R", repr(field).encode()
        h.update(b"%s%d:" % (tag, len(data)))
        h.update(data)
    return h.digest()


def latest_distinct(rows: Iterable[CallTraceRow]) -> List[RowTuple]:
    """The distinct rows of one ``add``, each at its last position, oldest first."""
    position = dict(zip(map(CallTraceRow.as_tuple, rows), itertools.count()))
    return sorted(position, key=position.__getitem__)


def prepare(rows: Iterable[RowTuple], created_at: Optional[str]) -> List[Prepared]:
    """Escape names and compute digests (outside any transaction: this is the slow part)."""
    return [prepare_row(row, created_at) for row in rows]


def prepare_row(row: RowTuple, created_at: Optional[str]) -> Prepared:
    module, qualname, arg_types, return_type, yield_type = row
    module, qualname = escape(module), escape(qualname)
    key = digest(module, qualname, arg_types, return_type, yield_type)
    return (module, qualname, key, created_at, arg_types, return_type, yield_type)


class IdCache:
    """Module and function ids known to be committed; ids never change once committed."""

    def __init__(self) -> None:
        self.modules: Dict[str, int] = {}
        self.funcs: Dict[Tuple[int, str], int] = {}

    def merge(self, other: IdCache) -> None:
        self.modules.update(other.modules)
        self.funcs.update(other.funcs)


def write_rows(
    conn: sqlite3.Connection, names: Names, rows: Sequence[Prepared], known: IdCache, created: IdCache
) -> None:
    """Insert ``rows`` (oldest first) in the open write transaction; a row already stored moves up.

    Ids that this transaction creates go into ``created``: merge them into ``known`` only
    after COMMIT, so a rolled-back id is never reused.
    """
    next_seq: Dict[int, int] = {}
    params = []
    for module, qualname, key, created_at, arg_types, return_type, yield_type in rows:
        module_id = known.modules.get(module)
        if module_id is None:
            module_id = created.modules.get(module)
            if module_id is None:
                module_id = created.modules[module] = _module_id(conn, names, module)
        func_key = (module_id, qualname)
        func_id = known.funcs.get(func_key)
        if func_id is None:
            func_id = created.funcs.get(func_key)
            if func_id is None:
                func_id = created.funcs[func_key] = _func_id(conn, names, module_id, qualname)
        seq = next_seq.get(module_id)
        if seq is None:
            seq = _first_free_seq(conn, names, module_id)
        next_seq[module_id] = seq + 1
        params.append((seq, func_id, key, created_at, arg_types, return_type, yield_type))
    conn.executemany(
        f"INSERT OR REPLACE INTO {names.q_traces} "
        "(seq, func_id, digest, created_at, arg_types, return_type, yield_type) VALUES (?, ?, ?, ?, ?, ?, ?)",
        params,
    )


def _module_id(conn: sqlite3.Connection, names: Names, module: str) -> int:
    found = conn.execute(f"SELECT id FROM {names.q_modules} WHERE name = ?", (module,)).fetchone()
    if found is not None:
        return int(found[0])
    module_id = conn.execute(f"INSERT INTO {names.q_modules} (name) VALUES (?)", (module,)).lastrowid
    assert module_id is not None
    if module_id > MAX_MODULE_ID:
        raise TraceStoreError(f"SQLite store {names.table!r} holds more than {MAX_MODULE_ID} modules")
    return module_id


def _func_id(conn: sqlite3.Connection, names: Names, module_id: int, qualname: str) -> int:
    found = conn.execute(
        f"SELECT id FROM {names.q_funcs} WHERE module_id = ? AND qualname = ?", (module_id, qualname)
    ).fetchone()
    if found is not None:
        return int(found[0])
    func_id = conn.execute(
        f"INSERT INTO {names.q_funcs} (module_id, qualname) VALUES (?, ?)", (module_id, qualname)
    ).lastrowid
    assert func_id is not None
    return func_id


def _first_free_seq(conn: sqlite3.Connection, names: Names, module_id: int) -> int:
    low, high = module_range(module_id)
    (newest,) = conn.execute(
        f"SELECT max(seq) FROM {names.q_traces} WHERE seq >= ? AND seq < ?", (low, high)
    ).fetchone()
    seq = low if newest is None else int(newest) + 1
    if seq >= high - (1 << 30):  # keep room for one more huge add
        raise TraceStoreError(f"the recency counter of a module in {names.table!r} is exhausted")
    return seq


def ingest_incoming(conn: sqlite3.Connection, names: Names, known: IdCache, created: IdCache) -> None:
    """Move rows that MonkeyType wrote (through the view's trigger) into the traces table.

    Runs inside the caller's write transaction, before the caller's own rows: the
    incoming rows are older than anything written after them, newer than the rest.
    """
    if conn.execute(f"SELECT 1 FROM {names.q_incoming} LIMIT 1").fetchone() is None:
        return
    cursor = conn.execute(
        "SELECT created_at, module, qualname, arg_types, return_type, yield_type "
        f"FROM {names.q_incoming} ORDER BY rowid"
    )
    dropped = 0
    while True:
        chunk = cursor.fetchmany(INGEST_CHUNK)
        if not chunk:
            break
        latest: Dict[RowTuple, Tuple[int, Optional[str]]] = {}
        for index, (created_at, module, qualname, arg_types, return_type, yield_type) in enumerate(chunk):
            if isinstance(module, str) and isinstance(qualname, str):
                latest[(module, qualname, arg_types, return_type, yield_type)] = (index, created_at)
            else:
                dropped += 1
        ordered = sorted(latest.items(), key=lambda item: item[1][0])
        write_rows(conn, names, [prepare_row(row, at) for row, (_, at) in ordered], known, created)
    if dropped:
        logger.warning(
            "Dropped %d row(s) of %s without a text module and qualname (no filter can return them)",
            dropped,
            names.table,
        )
    conn.execute(f"DELETE FROM {names.q_incoming}")
