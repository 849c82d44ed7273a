"""``LMDBStore``: distinct call traces, most recent first, in an LMDB environment (py-lmdb).

Key layout (named databases; ids and sequence numbers are big-endian, so byte order
is numeric order; names are UTF-8, see ``lmdb.keys``):

=============  =============================================  ==================================
database       key                                            value
=============  =============================================  ==================================
``meta``       ``format``, ``seq``, ``next_module``, ...      format tag, counters
``modules``    module name (*)                                module id (4 bytes) + name
``texts``      text id (4 bytes)                              a qualname or JSON text
``text_ids``   the text (*)                                   text id + text
``qualnames``  module id + qualname (*)                       qualname's text id + qualname
``recent``     module id + seq (8 bytes)                      the row: 4 text ids (16 bytes)
``byqual``     module id + qualname id + seq                  (empty)
``rows``       module id + the row's 4 text ids               seq of its latest occurrence
=============  =============================================  ==================================

(*) a name or text longer than 400 bytes is keyed by its first 400 bytes, a digest
and, if two ever collide, a probe byte; the full text is in the value and is
always compared exactly, so keys stay under LMDB's 511-byte limit.

* Qualnames and the JSON fields are interned: a workload repeats the same few
  types, so a stored trace takes three small entries (see the benchmark's bytes
  per trace), and ids are cached per process (committed ids never change).

* Recency is a sequence number kept in ``meta`` and bumped inside each write
  transaction, so it is total across threads and processes (no clocks).
* ``filter(module)`` reads the module's ``recent`` range backwards: ``limit``
  entries (S4, S5, S15).
* ``filter(module, prefix)`` finds the k qualnames with that prefix in
  ``qualnames`` (a byte prefix of UTF-8 is exactly a ``str`` prefix, S3), merges
  their ``byqual`` ranges newest first (one cursor each, a heap over k), and fetches
  the ``limit`` winners from ``recent``: k positionings plus ``limit`` steps, whatever
  the module's size, also when the prefix is rare among the module's traces.
  (A k-way merge rather than scanning ``recent`` with a filter, whose cost grows with
  the traces of other qualnames; measured in the tests through ``last_filter_steps``.)
* Distinct results (S6): a row's identity is its module id and text ids (exact,
  as interning is exact); adding it again finds its last sequence number in
  ``rows`` and deletes the old ``recent`` and ``byqual`` entries before writing
  the new ones.

Each ``add`` is one write transaction (all or nothing), synced to disk on commit by
default (S10). A full map is grown and the transaction run again; several processes
may write at once (LMDB's writer lock; S11). See ``lmdb.env`` for fork safety.
"""

from __future__ import annotations

import weakref
from typing import Any, ClassVar, Iterable, Iterator, List, Optional, Tuple

from reference_stores.lmdb.config import parse_connection_string, read_only_connection_string
from reference_stores.lmdb.env import SharedEnv, open_shared_env, release_shared_env
from reference_stores.lmdb.keys import ID, text_bytes
from reference_stores.lmdb.names import find_module_id
from reference_stores.lmdb.read import RowDecoder, module_names, prefix_rows, recent_rows
from reference_stores.lmdb.scan import stream_rows
from reference_stores.lmdb.types import Dbs, Txn
from reference_stores.lmdb.write import latest_distinct, size_hint, write_rows
from reference_stores.rows import checked_rows
from tracestore import (
    CallTraceStore,
    CallTraceThunk,
    TraceStoreError,
    check_limit,
)
from tracestore.encoding import RowTuple, serialize_tuples


class LMDBStore(CallTraceStore):
    """Distinct traces, most recent first, in an LMDB environment shared by threads and processes.

    Connection string: ``PATH`` or ``PATH?option=value&option=value``.

    * ``PATH`` is the environment's directory (created if missing; its parent must
      exist), holding ``data.mdb`` and ``lock.mdb``. A path containing ``?`` must be
      followed by ``?`` and the (possibly empty) options.
    * ``map_size=BYTES`` (default 64 MiB, at least 65536): the initial map size;
      the map grows by doubling whenever it is full, so this only tunes growth.
    * ``subdir=false``: ``PATH`` is the data file itself, the lock file is ``PATH-lock``.
    * ``sync=false``: do not flush to disk on commit. Faster; a crash of the
      process loses nothing committed, but a crash of the machine may (S10 weakened).
    * ``readonly=true``: open an existing environment read-only (LMDB's ``readonly``):
      ``data.mdb`` is never written, and ``add`` raises ``TraceStoreError``.

    Errors (S14): an unparsable string, a missing parent directory, a path that is a
    regular file, or a file or environment that is not a tracestore LMDB environment
    raise ``StoreConfigError``; nothing the failed open created is left behind.

    Within a process, every store naming the same path shares one environment (LMDB
    allows one per process); the options of the first open apply. ``close()`` (or
    garbage collection) releases this store's share.
    """

    ordered_results = True
    distinct_results = True
    example_connection_string: ClassVar[str] = "{directory}/traces.lmdb"

    def __init__(self, shared: SharedEnv, readonly: bool = False) -> None:
        self._shared: Optional[SharedEnv] = shared
        self._readonly = readonly or shared.options.readonly
        self._release = weakref.finalize(self, release_shared_env, shared)
        #: Cursor positionings and steps made by this store's latest ``filter`` (a test hook).
        self.last_filter_steps = 0

    @classmethod
    def make_store(cls, connection_string: str) -> LMDBStore:
        options = parse_connection_string(connection_string)
        return cls(open_shared_env(options, connection_string), options.readonly)

    @classmethod
    def make_read_only_store(cls, connection_string: str) -> LMDBStore:
        """The store ``connection_string`` names, opened read-only (``readonly=true`` unless it says)."""
        return cls.make_store(read_only_connection_string(connection_string))

    def add(self, traces: Iterable[Any]) -> None:
        self._store(list(serialize_tuples(traces)))

    def add_rows(self, rows: Iterable[Any]) -> int:
        """Store encoded rows as they are, like ``add`` (``tracestore.copy.RowSink``).

        Raises ``EncodeError``, storing nothing, for a row with a field of the wrong type.
        Returns how many of the distinct rows were not stored before.
        """
        return self._store([row.as_tuple() for row in checked_rows(rows)])

    def iter_rows(self) -> Iterator[CallTraceThunk]:
        """Every stored row, oldest first across modules, streamed (``tracestore.copy.RowSource``).

        Each is a ``CallTraceRow``, except a value damaged in storage, which comes as a
        thunk whose ``to_trace`` raises ``MalformedRowError`` (as ``filter`` returns it,
        S9).  See ``lmdb.scan`` for what a concurrent write does to the iteration.
        """
        return stream_rows(self._env)

    def _store(self, encoded: List[RowTuple]) -> int:
        """Store rows in one write transaction (all or nothing), each distinct row at its last place."""
        if self._readonly:
            raise TraceStoreError("this LMDBStore was opened read-only (readonly=true)")
        rows = latest_distinct(encoded)
        if not rows:
            return 0
        shared = self._env()
        cache = shared.cache
        interner, new = shared.write(lambda txn, dbs: write_rows(txn, dbs, rows, cache), size_hint(rows))
        cache.publish(interner)
        return new

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        check_limit(limit)
        if limit == 0:
            self.last_filter_steps = 0
            return []
        shared = self._env()
        cache = shared.cache
        prefix = text_bytes(qualname_prefix) if qualname_prefix else b""
        cached_id = cache.module_ids.get(module)

        def run(txn: Txn, dbs: Dbs) -> Tuple[List[CallTraceThunk], int]:
            module_id = cached_id or find_module_id(txn, dbs, module)
            if module_id is None:
                return [], 1
            cache.module_ids[module] = module_id  # committed, so permanent
            decoder = RowDecoder(txn, dbs, cache, module)
            if prefix:
                found = prefix_rows(txn, dbs, ID.pack(module_id), decoder, prefix, limit)
            else:
                found = recent_rows(txn, dbs, ID.pack(module_id), decoder, limit)
            decoder.publish()
            return found

        found, self.last_filter_steps = shared.read(run)
        return found

    def list_modules(self) -> List[str]:
        return self._env().read(module_names)

    def trim_memory(self) -> None:
        """Give back the pages of the memory map this process touched (``lmdb.mapped``); a bulk
        job (``tracestore.copy``) calls it between batches so that its RSS does not grow with the file."""
        self._env().drop_mapped_pages()

    def close(self) -> None:
        """Release this store's share of the environment (closed when no store uses it)."""
        self._shared = None
        self._release()

    def __enter__(self) -> LMDBStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _env(self) -> SharedEnv:
        if self._shared is None:
            raise TraceStoreError("this LMDBStore is closed")
        return self._shared
