"""LMDBStore speed and size: add throughput, filter latency, bytes per trace, peak memory.

Run: ``python -m tests.benchmarks.bench_lmdb [--quick]`` (or ``nox -s bench``).

* add: the production-like workload, in tracer-sized batches and as one batch, into a
  fresh store per round; LMDBStore, raw py-lmdb puts of pre-encoded rows (one
  transaction, the floor) and MonkeyType's SQLiteStore alternate.
* filter(limit=2000): LMDBStore and MonkeyType's SQLiteStore each given 100,000 and
  1,000,000 distinct traces, and 1,000,000 repeated ones (the 100,000 ten times each,
  shuffled; ``tests.support.workload.filter_corpus``), MonkeyType's rows bulk-inserted
  (the same JSON as its own ``add``), all six queried in interleaved rounds; the figures
  that matter for LMDB are its time at 1M, and that against its own time at 100k (flat
  in table size, also when the table is full of repeats).  Then the same queries in a
  reader: each LMDBStore reopened, with a fresh cache, as ``monkeytype stub`` reads a store
  that another process wrote.
* bytes per added trace (file size / traces) and peak Python memory (tracemalloc) of add
  and filter.
"""

from __future__ import annotations

import datetime
import functools
import gc
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import lmdb
from monkeytype.db.sqlite import SQLiteStore as MonkeyTypeSQLiteStore

from reference_stores.lmdb import LMDBStore
from tests.benchmarks.common import FILTER_QUERIES, interleaved, parse_args, peak_memory, print_table, timed
from tests.support.workload import FILTER_MODULE, filter_corpus, production_workload, repeated
from tracestore import CallTraceRow, serialize_traces

MONKEYTYPE = "MonkeyType SQLiteStore"
LMDB_STORE = "tracestore LMDBStore"
RAW = "raw py-lmdb puts (pre-encoded)"
FilterCall = Tuple[str, Optional[str]]


class Paths:
    """Fresh file names in one temporary directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.counter = 0

    def fresh(self, label: str) -> str:
        self.counter += 1
        return str(self.directory / f"{label}{self.counter}")


class RawLMDB:
    """The floor: one transaction of plain puts of rows encoded beforehand, keyed by sequence."""

    def __init__(self, path: str) -> None:
        self.env = lmdb.open(path, map_size=1 << 30)

    def put_all(self, encoded: List[Tuple[bytes, bytes]]) -> None:
        with self.env.begin(write=True) as txn:
            cursor = txn.cursor()
            cursor.putmulti(encoded, append=True)

    def close(self) -> None:
        self.env.close()


def pre_encoded(traces: List[Any]) -> List[Tuple[bytes, bytes]]:
    rows = serialize_traces(traces)
    return [
        (i.to_bytes(8, "big"), "\0".join(field or "" for field in row.as_tuple()).encode())
        for i, row in enumerate(rows)
    ]


# -- add ----------------------------------------------------------------------------------------


def bench_add(paths: Paths, n: int, batch: int, rounds: int) -> None:
    traces = production_workload(n)
    batches = [traces[i : i + batch] for i in range(0, n, batch)]
    encoded = [pre_encoded(b) for b in batches]
    distinct = len({CallTraceRow.from_trace(t) for t in traces})

    def add_all(store: Any) -> None:
        for part in batches:
            store.add(part)

    def raw_all(store: RawLMDB) -> None:
        for part in encoded:
            store.put_all(part)

    contenders: Dict[str, Tuple[Callable[[], Any], Callable[[Any], None]]] = {
        MONKEYTYPE: (lambda: MonkeyTypeSQLiteStore.make_store(paths.fresh("mt") + ".sqlite3"), add_all),
        LMDB_STORE: (lambda: LMDBStore.make_store(paths.fresh("ours") + ".lmdb"), add_all),
        RAW: (lambda: RawLMDB(paths.fresh("raw") + ".lmdb"), raw_all),
    }
    seconds: Dict[str, List[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, (fresh, run) in contenders.items():
            store = fresh()
            seconds[name].append(timed(functools.partial(run, store))[0])
            if hasattr(store, "close"):
                store.close()
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    base, floor = medians[MONKEYTYPE], medians[RAW]
    print_table(
        f"add: {n:,} production-like traces ({distinct:,} distinct) in batches of {batch:,}, "
        f"fresh store, median of {rounds} interleaved rounds",
        ("store", "traces/s", "ms per batch", "x MonkeyType", "time / raw puts"),
        [(name, n / s, 1000 * s / len(batches), base / s, s / floor) for name, s in medians.items()],
    )


# -- filter ---------------------------------------------------------------------------------------


def load_lmdb(path: str, traces: List[Any]) -> LMDBStore:
    store = LMDBStore.make_store(path)
    for start in range(0, len(traces), 100_000):
        store.add(traces[start : start + 100_000])
    return store


def load_monkeytype(path: str, traces: List[Any]) -> MonkeyTypeSQLiteStore:
    """The rows MonkeyType's own ``add`` writes (same JSON, E3), inserted in one transaction."""
    store = MonkeyTypeSQLiteStore.make_store(path)
    assert isinstance(store, MonkeyTypeSQLiteStore)
    now = datetime.datetime.now()
    rows = [(now, *row.as_tuple()) for row in serialize_traces(traces)]
    with store.conn:
        store.conn.executemany(f"INSERT INTO {store.table} VALUES (?, ?, ?, ?, ?, ?)", rows)
    return store


Filled = Dict[Tuple[str, str], Any]  # (store name, what it holds) -> the store


def bench_filter(paths: Paths, sizes: Sequence[int], rounds: int) -> Filled:
    """Distinct tables of each size, and the smallest's traces each added ``big / small`` times."""
    small, big = min(sizes), max(sizes)
    loads: Dict[str, List[Any]] = {f"{n:,}": filter_corpus(n) for n in sizes}
    rep = f"{big:,} repeated"
    loads[rep] = repeated(filter_corpus(small), big // small, seed=1)
    stores: Filled = {}
    files: Dict[Tuple[str, str], Path] = {}
    for label, traces in loads.items():
        for name, load, suffix, data_file in (
            (LMDB_STORE, load_lmdb, ".lmdb", "data.mdb"),
            (MONKEYTYPE, load_monkeytype, ".sqlite3", ""),
        ):
            path = paths.fresh(f"filter{len(stores)}") + suffix
            elapsed, store = timed(functools.partial(load, path, traces))
            stores[name, label] = store
            files[name, label] = Path(path) / data_file if data_file else Path(path)
            print(f"  added {label} traces to {name} in {elapsed:.1f} s ({len(traces) / elapsed:,.0f}/s)")
    added = {label: len(traces) for label, traces in loads.items()}
    del loads, traces  # a million traces in memory would slow every allocation that follows
    gc.collect()
    base = f"{small:,}"
    for query, prefix in FILTER_QUERIES:
        seconds: Dict[Tuple[str, str], List[float]] = {key: [] for key in stores}
        counts: Dict[Tuple[str, str], int] = {}
        for _ in range(rounds):
            for key, store in stores.items():
                elapsed, found = timed(functools.partial(store.filter, FILTER_MODULE, prefix, 2000))
                seconds[key].append(elapsed)
                counts[key] = len(found)
        medians = {key: statistics.median(values) for key, values in seconds.items()}
        rows = [
            (
                name,
                label,
                1000 * s,
                counts[name, label],
                s / medians[name, base],
                medians[MONKEYTYPE, label] / s,
            )
            for (name, label), s in medians.items()
        ]
        print_table(
            f"filter({FILTER_MODULE!r}, {prefix!r}, limit=2000): {query}; median of {rounds} interleaved "
            f"rounds; '{rep}': {small:,} distinct traces each added {big // small} times, shuffled",
            (
                "store",
                "traces added",
                "ms (<=10)",
                "results",
                f"time / own at {base} (<=1.5)",
                "x MonkeyType",
            ),
            rows,
        )
    bench_reader(stores, files, base, rounds)
    print_table(
        "storage",
        ("store", "traces added", "file bytes", "bytes per added trace"),
        [
            (
                name,
                label,
                files[name, label].stat().st_size,
                files[name, label].stat().st_size / added[label],
            )
            for name, label in stores
        ],
    )
    return stores


def bench_reader(stores: Filled, files: Dict[Tuple[str, str], Path], base: str, rounds: int) -> None:
    """filter in a reader that did not write the store (``monkeytype stub``): LMDBStores reopened.

    The process that added the traces holds their texts in its cache, in the order it
    first saw them; a reader loads them as it decodes.  Its first call (cold: texts read
    from the map) and the median of the rest are shown.
    """
    labels = [label for name, label in stores if name == LMDB_STORE]
    for label in labels:
        stores[LMDB_STORE, label].close()
        stores[LMDB_STORE, label] = LMDBStore.make_store(str(files[LMDB_STORE, label].parent))
    rows = []
    for query, prefix in FILTER_QUERIES:
        calls: Dict[str, Callable[[], object]] = {
            label: functools.partial(stores[LMDB_STORE, label].filter, FILTER_MODULE, prefix, 2000)
            for label in labels
        }
        first = {label: timed(call)[0] for label, call in calls.items()}
        seconds = interleaved(calls, rounds)
        for label in labels:
            rows.append(
                (query, label, 1000 * first[label], 1000 * seconds[label], seconds[label] / seconds[base])
            )
    print_table(
        f"filter(limit=2000) in a reader: each LMDBStore reopened (a fresh cache); median of {rounds} "
        "interleaved rounds after the first call",
        ("query", "traces added", "first call ms", "ms (<=10)", f"time / own at {base} (<=1.5)"),
        rows,
    )


# -- memory ---------------------------------------------------------------------------------------


def bench_memory(paths: Paths, n: int, filter_stores: Filled) -> None:
    traces = production_workload(n)
    rows = []
    for name, fresh in (
        (LMDB_STORE, lambda: LMDBStore.make_store(paths.fresh("mem") + ".lmdb")),
        (MONKEYTYPE, lambda: MonkeyTypeSQLiteStore.make_store(paths.fresh("mem") + ".sqlite3")),
    ):
        store: Any = fresh()
        rows.append(
            (f"{name}: add({n:,} production-like traces)", peak_memory(functools.partial(store.add, traces)))
        )
    for (name, label), store in filter_stores.items():
        rows.append(
            (
                f"{name}: filter(limit=2000), {label} traces added",
                peak_memory(functools.partial(store.filter, FILTER_MODULE, None, 2000)),
            )
        )
    print_table("peak Python memory (tracemalloc)", ("operation", "peak bytes"), rows)


def main() -> None:
    args = parse_args(__doc__ or "")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_lmdb") as directory:
        paths = Paths(Path(directory))
        n = 5_000 if args.quick else 50_000
        bench_add(paths, n, batch=1_000, rounds=args.rounds)
        bench_add(paths, n, batch=n, rounds=args.rounds)
        sizes = (10_000, 50_000) if args.quick else (100_000, 1_000_000)
        stores = bench_filter(paths, sizes, rounds=max(args.rounds, 9))
        bench_memory(paths, n, stores)
        for store in stores.values():
            if hasattr(store, "close"):
                store.close()
    print(f"\nbench_lmdb took {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
