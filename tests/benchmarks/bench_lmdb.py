"""LMDBStore speed and size: add throughput, filter latency, bytes per trace, peak memory.

Run: ``python -m tests.benchmarks.bench_lmdb [--quick]`` (or ``nox -s bench``).

* add: the production-like workload, in tracer-sized batches and as one batch, into a
  fresh store per round; LMDBStore, raw py-lmdb puts of pre-encoded rows (one
  transaction, the floor) and MonkeyType's SQLiteStore alternate.
* filter(limit=2000): LMDBStore and MonkeyType's SQLiteStore each holding 100,000 and
  1,000,000 distinct traces (MonkeyType's rows bulk-inserted, the same JSON as its own
  ``add``), all four queried in interleaved rounds; the figure that matters for LMDB is
  its time at 1M against its own time at 100k (flat in table size).
* bytes per trace (file size / traces) and peak Python memory (tracemalloc) of add and filter.
"""

from __future__ import annotations

import datetime
import functools
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import lmdb
from monkeytype.db.sqlite import SQLiteStore as MonkeyTypeSQLiteStore

from reference_stores.lmdb import LMDBStore
from tests.benchmarks.common import parse_args, peak_memory, print_table, timed
from tests.support.workload import distinct_traces, module_names, production_workload
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


def bench_filter(paths: Paths, sizes: Sequence[int], rounds: int) -> Dict[Tuple[str, int], Any]:
    all_traces = distinct_traces(max(sizes))
    stores: Dict[Tuple[str, int], Any] = {}
    files: Dict[Tuple[str, int], Path] = {}
    for size in sizes:
        traces = all_traces[:size]
        for name, load, suffix, data_file in (
            (LMDB_STORE, load_lmdb, ".lmdb", "data.mdb"),
            (MONKEYTYPE, load_monkeytype, ".sqlite3", ""),
        ):
            path = paths.fresh(f"filter{size}") + suffix
            elapsed, store = timed(functools.partial(load, path, traces))
            stores[name, size] = store
            files[name, size] = Path(path) / data_file if data_file else Path(path)
            print(
                f"  loaded {size:,} distinct traces into {name} in {elapsed:.1f} s ({size / elapsed:,.0f}/s)"
            )
    module = module_names()[3]
    # None: the whole module; "func": 10 of its 15 qualnames; "Handler2": 1 of 15 (fewer
    # than 2,000 matches at 100,000 stored traces, so its two sizes return different counts).
    calls: List[FilterCall] = [(module, None), (module, "func"), (module, "Handler2")]
    for module_name, prefix in calls:
        seconds: Dict[Tuple[str, int], List[float]] = {key: [] for key in stores}
        counts: Dict[Tuple[str, int], int] = {}
        for _ in range(rounds):
            for key, store in stores.items():
                elapsed, found = timed(functools.partial(store.filter, module_name, prefix, 2000))
                seconds[key].append(elapsed)
                counts[key] = len(found)
        medians = {key: statistics.median(values) for key, values in seconds.items()}
        rows = []
        for (name, size), s in medians.items():
            own_small = medians[name, min(sizes)]
            rows.append(
                (name, size, 1000 * s, counts[name, size], s / own_small, medians[MONKEYTYPE, size] / s)
            )
        print_table(
            f"filter({module_name!r}, {prefix!r}, limit=2000), median of {rounds} interleaved rounds",
            ("store", "stored traces", "ms", "results", f"time / own at {min(sizes):,}", "x MonkeyType"),
            rows,
        )
    print_table(
        "storage",
        ("store", "stored traces", "file bytes", "bytes per trace"),
        [
            (name, size, files[name, size].stat().st_size, files[name, size].stat().st_size / size)
            for name, size in stores
        ],
    )
    return stores


# -- memory ---------------------------------------------------------------------------------------


def bench_memory(paths: Paths, n: int, filter_stores: Dict[Tuple[str, int], Any]) -> None:
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
    module = module_names()[3]
    for (name, size), store in filter_stores.items():
        rows.append(
            (
                f"{name}: filter(limit=2000) at {size:,}",
                peak_memory(functools.partial(store.filter, module, None, 2000)),
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
        sizes = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
        stores = bench_filter(paths, sizes, rounds=max(args.rounds, 9))
        bench_memory(paths, n, stores)
        for store in stores.values():
            if hasattr(store, "close"):
                store.close()
    print(f"\nbench_lmdb took {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
