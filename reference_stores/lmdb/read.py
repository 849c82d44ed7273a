"""The read side of ``LMDBStore``: the two ``filter`` scans, each O(limit), and row decoding.

Every scan runs inside a transaction given by ``SharedEnv.read`` and returns what it
found together with the number of cursor positionings and steps it made (the cost
that ``LMDBStore.last_filter_steps`` reports).
"""

from __future__ import annotations

import heapq
import struct
from typing import Dict, List, Optional, Tuple

from reference_stores.lmdb.keys import (
    AFTER_PREFIX,
    ID_SIZE,
    NAME_KEY_MAX,
    NONE_ID,
    ROW_IDS,
    SEQ_SIZE,
    bytes_text,
)
from reference_stores.lmdb.names import NameCache, load_text
from reference_stores.lmdb.types import Cursor, Dbs, Txn
from tracestore import CallTraceRow, CallTraceThunk, MalformedRowError
from tracestore.trace import CallTrace


class UndecodableRow(CallTraceThunk):
    """A stored value that is not a row at all; ``to_trace`` raises ``MalformedRowError`` (S9, E5)."""

    __slots__ = ("module", "reason")

    def __init__(self, module: str, reason: str) -> None:
        self.module = module
        self.reason = reason

    def to_trace(self) -> CallTrace:
        raise MalformedRowError(f"A stored row of module {self.module!r} cannot be read: {self.reason}")

    def __repr__(self) -> str:
        return f"UndecodableRow({self.module!r}, {self.reason!r})"


class RowDecoder:
    """Turns ``recent`` values (four text ids) into rows, through the cache of texts."""

    def __init__(self, txn: Txn, dbs: Dbs, cache: NameCache, module: str) -> None:
        self._txn = txn
        self._dbs = dbs
        self._texts = cache.texts
        self._cache = cache
        self._module = module
        self.loaded: Dict[int, str] = {}

    def decode(self, value: bytes) -> CallTraceThunk:
        try:
            qualname_id, arg_types_id, return_id, yield_id = ROW_IDS.unpack(value)
        except struct.error:
            return UndecodableRow(self._module, f"a value of {len(value)} bytes is not four text ids")
        texts = self._texts
        qualname = texts.get(qualname_id) or self._load(qualname_id)
        arg_types = texts.get(arg_types_id) or self._load(arg_types_id)
        return_type = None if return_id == NONE_ID else texts.get(return_id) or self._load(return_id)
        yield_type = None if yield_id == NONE_ID else texts.get(yield_id) or self._load(yield_id)
        if (
            qualname is None
            or arg_types is None
            or (return_id and return_type is None)
            or (yield_id and yield_type is None)
        ):
            return UndecodableRow(
                self._module, f"it names text ids {ROW_IDS.unpack(value)} that are not all stored"
            )
        return CallTraceRow(self._module, qualname, arg_types, return_type, yield_type)

    def _load(self, number: int) -> Optional[str]:
        text = self.loaded.get(number)
        if text is None:
            text = load_text(self._txn, self._dbs, number)
            if text is not None:
                self.loaded[number] = text
        return text

    def publish(self) -> None:
        """Remember the texts this read loaded (committed data: safe to keep)."""
        if self.loaded:
            self._cache.remember_texts(self.loaded)


def recent_rows(
    txn: Txn, dbs: Dbs, module_id: bytes, decoder: RowDecoder, limit: int
) -> Tuple[List[CallTraceThunk], int]:
    """The ``limit`` most recent rows of a module: its ``recent`` range read backwards."""
    cursor = txn.cursor(db=dbs.recent)
    found: List[CallTraceThunk] = []
    if not _at_end_of_range(cursor, module_id):
        return found, 1
    steps = 1
    decode = decoder.decode
    for key, value in cursor.iterprev():
        steps += 1
        if not key.startswith(module_id):
            break
        found.append(decode(value))
        if len(found) >= limit:
            break
    return found, steps


def prefix_rows(
    txn: Txn, dbs: Dbs, module_id: bytes, decoder: RowDecoder, prefix: bytes, limit: int
) -> Tuple[List[CallTraceThunk], int]:
    """The ``limit`` most recent rows of a module whose qualname starts with ``prefix``.

    1. The ``qualnames`` range of the prefix gives the k matching qualnames.
    2. A k-way merge of their ``byqual`` ranges, each read backwards by its own cursor
       (newest first), yields the ``limit`` newest sequence numbers.
    3. Their rows are fetched from ``recent`` in one ``getmulti`` call.
    Cost: k positionings plus ``limit`` steps and fetches, whatever the size of the module.
    """
    qualname_ids, steps = _matching_qualname_ids(txn, dbs, module_id, prefix)
    cursors: List[Tuple[Cursor, bytes]] = []
    heap: List[Tuple[int, int, bytes]] = []  # (-seq, index of its cursor, key): newest on top
    for qualname_id in qualname_ids:
        steps += 1
        start = module_id + qualname_id
        cursor = txn.cursor(db=dbs.byqual)
        if _at_end_of_range(cursor, start):
            key = cursor.key()
            heap.append((-int.from_bytes(key[-SEQ_SIZE:], "big"), len(cursors), key))
            cursors.append((cursor, start))
    heapq.heapify(heap)
    keys: List[bytes] = []
    from_bytes = int.from_bytes
    while heap and len(keys) < limit:
        _, index, key = heap[0]
        keys.append(module_id + key[-SEQ_SIZE:])
        cursor, start = cursors[index]
        steps += 1
        if cursor.prev():
            key = cursor.key()
            if key.startswith(start):
                heapq.heapreplace(heap, (-from_bytes(key[-SEQ_SIZE:], "big"), index, key))
                continue
        heapq.heappop(heap)
    steps += len(keys)
    decode = decoder.decode
    found = [decode(value) for _, value in txn.cursor(db=dbs.recent).getmulti(keys)]
    return found, steps


def _matching_qualname_ids(txn: Txn, dbs: Dbs, module_id: bytes, prefix: bytes) -> Tuple[List[bytes], int]:
    start = module_id + prefix[:NAME_KEY_MAX]
    cursor = txn.cursor(db=dbs.qualnames)
    ids: List[bytes] = []
    steps = 1
    if not cursor.set_range(start):
        return ids, steps
    for key, value in cursor.iternext():
        steps += 1
        if not key.startswith(start):
            break
        if value.startswith(prefix, ID_SIZE):
            ids.append(value[:ID_SIZE])
    return ids, steps


def module_names(txn: Txn, dbs: Dbs) -> List[str]:
    """Every module with a stored trace, once each."""
    return [bytes_text(value[ID_SIZE:]) for value in txn.cursor(db=dbs.modules).iternext(keys=False)]


def _at_end_of_range(cursor: Cursor, prefix: bytes) -> bool:
    """Put ``cursor`` on the last key starting with ``prefix``; False when there is none."""
    if cursor.set_range(prefix + AFTER_PREFIX):
        moved = cursor.prev()
    else:
        moved = cursor.last()
    return bool(moved) and bytes(cursor.key()).startswith(prefix)
