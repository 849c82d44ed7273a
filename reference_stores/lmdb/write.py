"""The write side of ``LMDBStore``: store a batch of rows in one transaction.

A batch is first reduced to its distinct rows in the order of their last occurrence
(S6: only the latest position of a repeated trace counts), so a repetitive batch
costs LMDB work per distinct row, not per trace.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

from reference_stores.lmdb.keys import ID, ID_SIZE, NONE_ID, ROW_IDS, SEQ, RowKeys, RowTuple
from reference_stores.lmdb.names import Interner, NameCache
from reference_stores.lmdb.types import Dbs, Txn

SEQ_KEY = b"seq"
# Rough bytes one row takes in the map (three entries with their keys, headers and page slack).
_ROW_BYTES = 200


def latest_distinct(rows: Sequence[RowTuple]) -> List[RowTuple]:
    """The distinct rows of a batch, ordered by their last occurrence."""
    latest = list(dict.fromkeys(reversed(rows)))
    latest.reverse()
    return latest


def size_hint(rows: Sequence[RowTuple]) -> int:
    """A generous guess of the map bytes that storing ``rows`` takes (new texts included)."""
    return len(rows) * _ROW_BYTES + sum(len(row[2]) for row in rows[:1000]) * 4


def write_rows(txn: Txn, dbs: Dbs, rows: Sequence[RowTuple], cache: NameCache) -> Tuple[Interner, int]:
    """Store ``rows`` as the most recent, in order; a row stored before moves to its new place.

    Returns the ``Interner`` whose new ids the cache may take once the transaction commits,
    and how many of the rows were not stored before.
    """
    new = 0
    interner = Interner(txn, dbs, cache)
    value = txn.get(SEQ_KEY, db=dbs.meta)
    seq = 0 if value is None else int(SEQ.unpack(value)[0])
    by_row, recent, byqual = txn.cursor(db=dbs.rows), txn.cursor(db=dbs.recent), txn.cursor(db=dbs.byqual)
    known_rows, new_rows = cache.rows, interner.rows
    pack_seq = SEQ.pack
    for row in rows:
        keys = known_rows.get(row) or new_rows.get(row)
        if keys is None:
            keys = new_rows[row] = _row_keys(interner, cache, row)
        row_key, mkey, ids, qkey = keys
        seq += 1
        seq_bytes = pack_seq(seq)
        old_seq = by_row.replace(row_key, seq_bytes)
        if old_seq is not None:
            recent.pop(mkey + old_seq)
            byqual.pop(qkey + old_seq)
        else:
            new += 1
        recent.put(mkey + seq_bytes, ids)
        byqual.put(qkey + seq_bytes, b"")
    txn.put(SEQ_KEY, SEQ.pack(seq), db=dbs.meta)
    return interner, new


def _row_keys(interner: Interner, cache: NameCache, row: RowTuple) -> RowKeys:
    """Intern a row's names and texts (indexing its qualname) and build its keys."""
    module, qualname, arg_types, return_type, yield_type = row
    known, text_id = cache.text_ids, interner.text_id
    mkey = ID.pack(interner.module_id(module))
    qid = known.get(qualname) or text_id(qualname)
    interner.index_qualname(mkey, qid, qualname)
    ids = ROW_IDS.pack(
        qid,
        known.get(arg_types) or text_id(arg_types),
        NONE_ID if return_type is None else known.get(return_type) or text_id(return_type),
        NONE_ID if yield_type is None else known.get(yield_type) or text_id(yield_type),
    )
    return mkey + ids, mkey, ids, mkey + ids[:ID_SIZE]
