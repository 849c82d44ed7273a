"""``LMDBStore.iter_rows``: every stored row, oldest first across modules, streamed in short reads.

Sequence numbers are global (``meta``'s ``seq``), and a module's ``recent`` range lists its
rows oldest first.  Each module is read forwards in chunks, each chunk one short read
transaction (no snapshot is held between chunks, so the map can grow and the file's
free pages be reused meanwhile), and the modules are merged on the sequence number.

Rows added while the iteration runs may or may not be included; a row added again
meanwhile may be yielded at its old place and at its new one.
"""

from __future__ import annotations

import heapq
from functools import partial
from operator import itemgetter
from typing import Callable, Iterator, List, Tuple

from reference_stores.lmdb.env import SharedEnv
from reference_stores.lmdb.keys import ID_SIZE, SEQ, bytes_text
from reference_stores.lmdb.names import NameCache
from reference_stores.lmdb.read import RowDecoder
from reference_stores.lmdb.types import Dbs, Txn
from tracestore import CallTraceThunk

Sequenced = Tuple[int, CallTraceThunk]

BUFFERED_ROWS = 20_000  # rows held at once across all modules' chunks
MIN_CHUNK = 64


def stream_rows(env: Callable[[], SharedEnv]) -> Iterator[CallTraceThunk]:
    """Every row, oldest first (each distinct row once, at its latest place); ``env()`` per read."""
    modules = env().read(_modules)
    chunk = max(MIN_CHUNK, BUFFERED_ROWS // max(1, len(modules)))
    streams = [_module_rows(env, module_key, name, chunk) for module_key, name in modules]
    for _, row in heapq.merge(*streams, key=itemgetter(0)):
        yield row


def _modules(txn: Txn, dbs: Dbs) -> List[Tuple[bytes, str]]:
    """Each module's key in ``recent`` (its id) and name."""
    values = txn.cursor(db=dbs.modules).iternext(keys=False)
    return [(bytes(value[:ID_SIZE]), bytes_text(value[ID_SIZE:])) for value in values]


def _module_rows(
    env: Callable[[], SharedEnv], module_key: bytes, module: str, chunk: int
) -> Iterator[Sequenced]:
    """One module's rows, oldest first, with their sequence numbers; ``chunk`` rows per read."""
    after = 0  # sequence numbers start at 1
    while True:
        shared = env()
        found = shared.read(
            partial(
                _chunk, cache=shared.cache, module_key=module_key, module=module, after=after, chunk=chunk
            )
        )
        yield from found
        if len(found) < chunk:
            return
        after = found[-1][0]


def _chunk(
    txn: Txn, dbs: Dbs, cache: NameCache, module_key: bytes, module: str, after: int, chunk: int
) -> List[Sequenced]:
    """Up to ``chunk`` rows of one module after sequence number ``after``, oldest first."""
    cursor = txn.cursor(db=dbs.recent)
    decoder = RowDecoder(txn, dbs, cache, module)
    found: List[Sequenced] = []
    if cursor.set_range(module_key + SEQ.pack(after + 1)):
        for key, value in cursor.iternext():
            if len(found) >= chunk or not key.startswith(module_key):
                break
            found.append((SEQ.unpack_from(key, ID_SIZE)[0], decoder.decode(value)))
    decoder.publish()
    return found
