"""The write side of ``LMDBStore``: store a batch of rows in one transaction.

A batch is first reduced to its distinct rows in the order of their last occurrence
(S6: only the latest position of a repeated trace counts), so a repetitive batch
costs LMDB work per distinct row, not per trace.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from reference_stores.lmdb_keys import ID, ROW_IDS, SEQ
from reference_stores.lmdb_names import Interner, NameCache
from reference_stores.lmdb_types import Dbs, Txn
from tracestore import CallTraceRow

SEQ_KEY = b"seq"
RowTuple = Tuple[str, str, str, Optional[str], Optional[str]]
# Rough bytes one row takes in the map (three entries with their keys, headers and page slack).
_ROW_BYTES = 200


def latest_distinct(rows: Sequence[CallTraceRow]) -> List[RowTuple]:
    """The distinct rows of a batch as tuples, ordered by their last occurrence."""
    latest = list(dict.fromkeys([row.as_tuple() for row in reversed(rows)]))
    latest.reverse()
    return latest


def size_hint(rows: Sequence[RowTuple]) -> int:
    """A generous guess of the map bytes that storing ``rows`` takes (new texts included)."""
    return len(rows) * _ROW_BYTES + sum(len(row[2]) for row in rows[:1000]) * 4


def write_rows(txn: Txn, dbs: Dbs, rows: Sequence[RowTuple], cache: NameCache) -> Interner:
    """Store ``rows`` as the most recent, in order; a row stored before moves to its new place.

    Returns the ``Interner`` whose new ids the cache may take once the transaction commits.
    """
    interner = Interner(txn, dbs, cache)
    module_id, text_id = interner.module_id, interner.text_id
    value = txn.get(SEQ_KEY, db=dbs.meta)
    seq = 0 if value is None else int(SEQ.unpack(value)[0])
    recent, byqual, rows_db = dbs.recent, dbs.byqual, dbs.rows
    get, put, delete = txn.get, txn.put, txn.delete
    module_keys: Dict[int, bytes] = {}
    for module, qualname, arg_types, return_type, yield_type in rows:
        mid = module_id(module)
        mkey = module_keys.get(mid)
        if mkey is None:
            mkey = module_keys[mid] = ID.pack(mid)
        qid = text_id(qualname)
        interner.index_qualname(mid, qid, qualname)
        ids = ROW_IDS.pack(qid, text_id(arg_types), text_id(return_type), text_id(yield_type))
        qkey = mkey + ids[:4]
        seq += 1
        seq_bytes = SEQ.pack(seq)
        row_key = mkey + ids
        old_seq = get(row_key, db=rows_db)
        if old_seq is not None:
            delete(mkey + old_seq, db=recent)
            delete(qkey + old_seq, db=byqual)
        put(row_key, seq_bytes, db=rows_db)
        put(mkey + seq_bytes, ids, db=recent)
        put(qkey + seq_bytes, b"", db=byqual)
    txn.put(SEQ_KEY, SEQ.pack(seq), db=dbs.meta)
    return interner
