"""How ``SQLiteStore`` writes rows: name escaping, the dedupe digest, recency numbers.

* SQLite text is UTF-8, so a lone surrogate in a module or qualname cannot be bound.
  ``escape`` writes each surrogate (and the escape character ``\\x01`` itself) as ``\\x01``
  plus four hex digits; every other character stands for itself.  The code is prefix-free,
  so equality (S2) and ``startswith`` (S3) are the same on escaped text.  MonkeyType's JSON
  is ASCII, so only module and qualname go through it; ordinary names are stored unchanged.
* Each distinct trace is stored once, in the traces table, identified by a 128-bit BLAKE2b
  ``digest`` of its five stored fields (unique), and never moves or changes afterwards.
* Recency lives in the small ``recent`` table, one row per trace: ``seq`` is
  ``module_id << 40`` plus a tick of the store's clock, a counter shared by every module
  (kept in the meta table as ``clock``; a file without it starts past its newest tick),
  so the low 40 bits order rows across modules too (``iter_rows``).  Adding a stored
  trace again gives its ``recent`` row a new, highest ``seq`` (S6): a few dozen bytes
  move, the trace itself does not.  A module's rows are the ``seq`` range of its id,
  newest last, so ``filter`` reads them newest first without sorting.  Trace ids are
  allocated per module from the same ranges, so a module's traces sit together on disk.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from reference_stores.sqlite.schema import SEQ_BITS, Names, quote
from tracestore import TraceStoreError

logger = logging.getLogger(__name__)

MAX_MODULE_ID = (1 << (63 - SEQ_BITS)) - 1
CLOCK_KEY = "clock"  # the meta row holding the next tick
INGEST_CHUNK = 20_000
LOOKUP_CHUNK = 500  # digests per "IN (...)" query; under SQLite's oldest parameter limit (999)
TRACE_CACHE_LIMIT = 20_000  # rows whose trace id this process remembers (a program's hot traces)

_UNSTORABLE = re.compile("[\x01\ud800-\udfff]")
_ESCAPED = re.compile("\x01([0-9a-f]{4})")
_SURROGATE = re.compile("[\ud800-\udfff]")

RowTuple = Tuple[Any, Any, Any, Any, Any]  # module, qualname, arg_types, return_type, yield_type
Timed = Tuple[RowTuple, Optional[str]]  # a row and its created_at


class StaleCacheError(Exception):
    """A remembered trace id is no longer in the file (rows deleted behind our back): retry uncached."""


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
    """The half-open range of one module's trace ids and recency numbers."""
    return module_id << SEQ_BITS, (module_id + 1) << SEQ_BITS


def digest(module: str, qualname: str, arg_types: Any, return_type: Any, yield_type: Any) -> bytes:
    """The dedupe key of a row whose module and qualname are already escaped.

    The fields are written as one text, each as a tag and its length (``S5:hello``,
    ``N`` for NULL; blobs and other values that a MonkeyType file may hold where text
    belongs get their own tags), so no two different rows give the same text.
    """
    text = "".join(map(_tagged, (module, qualname, arg_types, return_type, yield_type)))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _tagged(field: Any) -> str:
    if field is None:
        return "N"
    if isinstance(field, str):
        return f"S{len(field)}:{field}"
    text = field.hex() if isinstance(field, bytes) else repr(field)
    return f"{type(field).__name__[0].upper()}{len(text)}:{text}"


def latest_distinct(rows: Iterable[RowTuple]) -> List[RowTuple]:
    """The distinct rows of one ``add``, each at its last position, oldest first."""
    latest = list(dict.fromkeys(reversed(list(rows))))
    latest.reverse()
    return latest


class IdCache:
    """Ids known to be committed (they never change once committed): modules, functions, traces."""

    def __init__(self) -> None:
        self.modules: Dict[str, int] = {}
        self.funcs: Dict[Tuple[int, str], int] = {}
        self.traces: Dict[RowTuple, Tuple[int, int, int]] = {}  # raw row -> module, func, trace id

    def merge(self, other: IdCache) -> None:
        self.modules.update(other.modules)
        self.funcs.update(other.funcs)
        if len(self.traces) + len(other.traces) > TRACE_CACHE_LIMIT:
            self.traces.clear()
        if len(other.traces) <= TRACE_CACHE_LIMIT:
            self.traces.update(other.traces)

    def clear(self) -> None:
        self.modules.clear()
        self.funcs.clear()
        self.traces.clear()


class _Writer:
    """One transaction's writes; ids it creates go to ``created``, merged into the cache after COMMIT."""

    def __init__(self, conn: sqlite3.Connection, names: Names, known: IdCache, created: IdCache) -> None:
        self.conn, self.names, self.known, self.created = conn, names, known, created
        self.next_id: Dict[Tuple[str, int], int] = {}
        self.tick: Optional[int] = None  # the clock's next tick, once read

    def write(self, rows: Sequence[Timed]) -> int:
        """Store ``rows`` (distinct, oldest first), each the newest of its module; how many are new."""
        known, created = self.known.traces, self.created.traces
        slots = [known.get(row) or created.get(row) for row, _ in rows]  # module, func, trace id
        misses = []
        for index, slot in enumerate(slots):
            if slot is None:
                row = rows[index][0]
                module, qualname = escape(row[0]), escape(row[1])
                misses.append((index, module, qualname, digest(module, qualname, *row[2:])))
        found = self._lookup([key for _, _, _, key in misses])
        new_traces = []
        for index, module, qualname, key in misses:
            row, created_at = rows[index]
            module_id = self._module_id(module)
            func_id = self._func_id(module_id, qualname)
            trace_id = found.get(key)
            if trace_id is None:
                trace_id = self._allocate("t", module_id)
                new_traces.append((trace_id, func_id, key, created_at, row[2], row[3], row[4]))
            slots[index] = created[row] = (module_id, func_id, trace_id)
        n = self.names
        self.conn.executemany(
            f"INSERT INTO {n.q_traces} (id, func_id, digest, created_at, arg_types, return_type, yield_type) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            new_traces,
        )
        new_ids = {t[0] for t in new_traces}
        resolved = [slot for slot in slots if slot is not None]
        assert len(resolved) == len(slots)  # every miss was resolved above
        placed, moved = [], []
        for seq, (_, func_id, trace_id) in zip(self._recency_numbers(resolved), resolved):
            if trace_id in new_ids:
                placed.append((seq, trace_id, func_id))
            else:
                moved.append((seq, trace_id))
        self.conn.executemany(f"INSERT INTO {n.q_recent} (seq, trace_id, func_id) VALUES (?, ?, ?)", placed)
        if self.tick is not None:
            self.conn.execute(
                f"INSERT OR REPLACE INTO {quote(n.meta)} (name, value) VALUES (?, ?)", (CLOCK_KEY, self.tick)
            )
        if not moved:
            return len(new_traces)
        cursor = self.conn.executemany(f"UPDATE {n.q_recent} SET seq = ? WHERE trace_id = ?", moved)
        if cursor.rowcount == len(moved):
            return len(new_traces)
        # Some stored trace has no recency row, or a remembered id is gone: the file was changed
        # behind our back.  This slower statement gives every trace that exists a recency row.
        cursor = self.conn.executemany(
            f"INSERT OR REPLACE INTO {n.q_recent} (seq, trace_id, func_id) "
            f"SELECT ?, id, func_id FROM {n.q_traces} WHERE id = ?",
            moved,
        )
        if cursor.rowcount != len(moved):
            raise StaleCacheError(f"{len(moved) - cursor.rowcount} remembered trace ids are gone")
        return len(new_traces)

    def _lookup(self, digests: List[bytes]) -> Dict[bytes, int]:
        found: Dict[bytes, int] = {}
        for start in range(0, len(digests), LOOKUP_CHUNK):
            chunk = digests[start : start + LOOKUP_CHUNK]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT digest, id FROM {self.names.q_traces} WHERE digest IN ({marks})"
            found.update((bytes(key), int(tid)) for key, tid in self.conn.execute(sql, chunk))
        return found

    def _module_id(self, module: str) -> int:
        module_id = self.known.modules.get(module) or self.created.modules.get(module)
        if module_id is not None:
            return module_id
        q = self.names.q_modules
        row = self.conn.execute(f"SELECT id FROM {q} WHERE name = ?", (module,)).fetchone()
        if row is not None:
            module_id = int(row[0])
        else:
            module_id = self.conn.execute(f"INSERT INTO {q} (name) VALUES (?)", (module,)).lastrowid
            assert module_id is not None
            if module_id > MAX_MODULE_ID:
                raise TraceStoreError(
                    f"SQLite store {self.names.table!r} holds more than {MAX_MODULE_ID} modules"
                )
        self.created.modules[module] = module_id
        return module_id

    def _func_id(self, module_id: int, qualname: str) -> int:
        key = (module_id, qualname)
        func_id = self.known.funcs.get(key) or self.created.funcs.get(key)
        if func_id is not None:
            return func_id
        q = self.names.q_funcs
        row = self.conn.execute(f"SELECT id FROM {q} WHERE module_id = ? AND qualname = ?", key).fetchone()
        if row is not None:
            func_id = int(row[0])
        else:
            func_id = self.conn.execute(f"INSERT INTO {q} (module_id, qualname) VALUES (?, ?)", key).lastrowid
            assert func_id is not None
        self.created.funcs[key] = func_id
        return func_id

    def _prefetch_recency(self, module_ids: Iterable[int]) -> None:
        """Read the newest ``seq`` of many modules in one statement (one query per module is slower)."""
        missing = sorted(m for m in module_ids if ("r", m) not in self.next_id)
        for start in range(0, len(missing), LOOKUP_CHUNK // 3):
            chunk = missing[start : start + LOOKUP_CHUNK // 3]
            each = f"SELECT ?, (SELECT max(seq) FROM {self.names.q_recent} WHERE seq >= ? AND seq < ?)"
            params = [value for m in chunk for value in (m, *module_range(m))]
            for module_id, newest in self.conn.execute(" UNION ALL ".join([each] * len(chunk)), params):
                low = module_range(module_id)[0]
                self.next_id[("r", module_id)] = low if newest is None else int(newest) + 1

    def _recency_numbers(self, slots: Sequence[Tuple[int, int, int]]) -> List[int]:
        """A new recency number for each slot's module, in order (``_allocate("r", ...)``, faster)."""
        if not slots:
            return []
        self._prefetch_recency({slot[0] for slot in slots})
        next_id, tick, numbers = self.next_id, self._tick(), []
        for module_id, _, _ in slots:
            key, low = ("r", module_id), module_id << SEQ_BITS
            value = max(next_id[key], low + tick)
            tick = value - low + 1
            next_id[key] = value + 1
            numbers.append(value)
        self.tick = tick
        if tick > (1 << SEQ_BITS) - (1 << 32):  # the same bound as _allocate's, on the clock's last tick
            raise TraceStoreError(f"the recency clock of a module in {self.names.table!r} is exhausted")
        return numbers

    def _allocate(self, kind: str, module_id: int) -> int:
        """The next trace id ("t") or recency number ("r", from the clock) of a module."""
        key = (kind, module_id)
        low, high = module_range(module_id)
        value = self.next_id.get(key)
        if value is None:
            table, column = (self.names.q_traces, "id") if kind == "t" else (self.names.q_recent, "seq")
            (newest,) = self.conn.execute(
                f"SELECT max({column}) FROM {table} WHERE {column} >= ? AND {column} < ?", (low, high)
            ).fetchone()
            value = low if newest is None else int(newest) + 1
        if kind == "r":  # past the module's newest seq and the clock, whichever is later
            value = max(value, low + self._tick())
            self.tick = value - low + 1
        if value >= high - (1 << 32):  # keep room for the rest of this transaction
            what = "trace id" if kind == "t" else "recency clock"
            raise TraceStoreError(f"the {what} of a module in {self.names.table!r} is exhausted")
        self.next_id[key] = value + 1
        return value

    def _tick(self) -> int:
        """The clock's next tick: from the meta table, else past the newest tick of any module."""
        if self.tick is None:
            n = self.names
            found = self.conn.execute(f"SELECT value FROM {quote(n.meta)} WHERE name = ?", (CLOCK_KEY,))
            row = found.fetchone()
            if row is not None and isinstance(row[0], int):
                self.tick = row[0]
            else:
                (newest,) = self.conn.execute(
                    f"SELECT max((SELECT max(seq) FROM {n.q_recent} WHERE seq >= (m.id << {SEQ_BITS}) "
                    f"AND seq < ((m.id + 1) << {SEQ_BITS})) - (m.id << {SEQ_BITS})) FROM {n.q_modules} AS m"
                ).fetchone()
                self.tick = 0 if newest is None else int(newest) + 1
        return self.tick


def write_rows(
    conn: sqlite3.Connection, names: Names, rows: Sequence[Timed], known: IdCache, created: IdCache
) -> int:
    """In the open write transaction: store ``rows`` (distinct, oldest first), each its module's newest;
    returns how many of them were not stored before."""
    return _Writer(conn, names, known, created).write(rows)


def ingest_incoming(conn: sqlite3.Connection, names: Names, known: IdCache, created: IdCache) -> None:
    """Move rows that MonkeyType wrote (through the view's trigger) into our tables.

    Runs inside the caller's write transaction, before the caller's own rows: the
    incoming rows are older than anything written after them, newer than the rest.
    """
    if conn.execute(f"SELECT 1 FROM {names.q_incoming} LIMIT 1").fetchone() is None:
        return
    cursor = conn.execute(
        "SELECT created_at, module, qualname, arg_types, return_type, yield_type "
        f"FROM {names.q_incoming} ORDER BY rowid"
    )
    writer = _Writer(conn, names, known, created)
    dropped = 0
    while True:
        chunk = cursor.fetchmany(INGEST_CHUNK)
        if not chunk:
            break
        latest: Dict[RowTuple, Optional[str]] = {}
        for created_at, module, qualname, arg_types, return_type, yield_type in chunk:
            if isinstance(module, str) and isinstance(qualname, str):
                row = (module, qualname, arg_types, return_type, yield_type)
                latest.pop(row, None)  # a repeat counts at its last position
                latest[row] = created_at
            else:
                dropped += 1
        writer.write(list(latest.items()))
    if dropped:
        logger.warning(
            "Dropped %d row(s) of %s without a text module and qualname (no filter can return them)",
            dropped,
            names.table,
        )
    conn.execute(f"DELETE FROM {names.q_incoming}")
