"""SQLiteStore against MonkeyType 23.3.0's SQLiteStore and raw sqlite3, measured in one run.

Run: ``python -m tests.benchmarks.bench_sqlite [--quick]`` (or ``nox -s bench``).

* add throughput on the repetitive production-like workload, for several ``add`` sizes,
  against MonkeyType's store and against raw ``executemany`` of pre-encoded rows into a
  plain six-column table (same WAL and ``synchronous=NORMAL`` settings as ours; encoding
  is timed for both stores, not for raw): in steady state (the program traced before),
  and a whole traced run into fresh stores; then the worst case for a deduplicating
  store, where every trace is new;
* ``filter(limit=2000)`` latency with 100,000 and 1,000,000 distinct traces stored, and
  with the 100,000 added ten times each (a table full of repeats), for prefixes of one,
  a few and all of a module's functions, and MonkeyType's ``filter`` on the same rows;
* the dense- and sparse-prefix plans side by side (see ``reference_stores.sqlite.plans``);
* bytes on disk per added trace, and peak Python memory (tracemalloc) of ``add`` and ``filter``.

Candidates alternate within each round, so a busy machine slows them alike; the figures
that matter are the ratios.
"""

from __future__ import annotations

import datetime
import functools
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from monkeytype.db.sqlite import SQLiteStore as MonkeyTypeStore

from reference_stores.sqlite import SQLiteStore
from reference_stores.sqlite import plans as sqlite_plans
from tests.benchmarks.common import FILTER_QUERIES, interleaved, parse_args, peak_memory, print_table
from tests.support.workload import (
    FILTER_MODULE,
    TYPES,
    distinct_traces,
    filter_corpus,
    functions,
    module_names,
    production_workload,
    repeated,
)
from tracestore import CallTrace, serialize_traces

LIMIT = 2000
LOAD_BATCH = 50_000
MODULE = FILTER_MODULE
WIDE = "bench_wide_module"
_COLUMNS = "created_at TEXT, module TEXT, qualname TEXT, arg_types TEXT, return_type TEXT, yield_type TEXT"
Row = Tuple[Any, ...]


# -- the three candidates ----------------------------------------------------------------


class RawTable:
    """The baseline: executemany of pre-encoded rows into MonkeyType's plain table."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute(f"CREATE TABLE IF NOT EXISTS monkeytype_call_traces ({_COLUMNS})")

    def insert(self, rows: Sequence[Row]) -> None:
        self.conn.execute("BEGIN")
        self.conn.executemany("INSERT INTO monkeytype_call_traces VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.conn.execute("COMMIT")


def monkeytype_store(path: str) -> Any:
    return MonkeyTypeStore.make_store(path)  # Any: it takes our duck-typed traces


def encoded(traces: Sequence[Any]) -> List[Row]:
    now = str(datetime.datetime.now())
    return [(now, *row.as_tuple()) for row in serialize_traces(traces)]


def file_bytes(path: str) -> int:
    checkpoint = sqlite3.connect(path)
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint.close()
    return sum(os.path.getsize(path + suffix) for suffix in ("", "-wal") if os.path.exists(path + suffix))


def load(store: SQLiteStore, traces: Sequence[Any]) -> float:
    """Add ``traces`` in batches of ``LOAD_BATCH``; the seconds it took."""
    start = time.perf_counter()
    for i in range(0, len(traces), LOAD_BATCH):
        store.add(traces[i : i + LOAD_BATCH])
    return time.perf_counter() - start


def each(add: Callable[[Any], object], batches: Sequence[Any]) -> Callable[[int], object]:
    """A candidate that adds batch ``i`` in round ``i``."""
    return lambda index: add(batches[index])


def timed_rounds(candidates: Dict[str, Callable[[int], object]], rounds: int) -> Dict[str, float]:
    """Median seconds of each candidate's call with the round number, candidates alternating.

    The order turns around every round, so no candidate always runs right after the same
    one (MonkeyType's fsyncs, for one, disturb whatever runs next).
    """
    seconds: Dict[str, List[float]] = {name: [] for name in candidates}
    order = list(candidates.items())
    for index in range(1, rounds + 1):
        for name, run in order if index % 2 else reversed(order):
            start = time.perf_counter()
            run(index)
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in seconds.items()}


# -- add ------------------------------------------------------------------------------------


def bench_add(tmp: str, sizes: Sequence[int], rounds: int) -> None:
    rows = []
    for size in sizes:
        workload = production_workload(size * (rounds + 1), seed=size)
        batches = [workload[i * size : (i + 1) * size] for i in range(rounds + 1)]
        pre = [encoded(b) for b in batches]
        ours = SQLiteStore.make_store(os.path.join(tmp, f"add{size}.sqlite3"))
        theirs = monkeytype_store(os.path.join(tmp, f"add{size}-mt.sqlite3"))
        raw = RawTable(os.path.join(tmp, f"add{size}-raw.sqlite3"))
        # Steady state: the program has been traced before (same seed: the same call shapes).
        load(ours, production_workload(50_000, seed=size))
        theirs.add(batches[0])
        raw.insert(pre[0])
        med = timed_rounds(
            {"mt": each(theirs.add, batches), "raw": each(raw.insert, pre), "ours": each(ours.add, batches)},
            rounds,
        )
        distinct = len(set(row[1:] for row in pre[1]))
        rows.append(
            (
                f"{size:,} ({distinct:,} distinct)",
                size / med["mt"],
                size / med["raw"],
                size / med["ours"],
                med["mt"] / med["ours"],
                med["ours"] / med["raw"],
            )
        )
    print_table(
        f"add: production-like workload, steady state (traces/s; median of {rounds} interleaved rounds)",
        (
            "traces per add",
            "MonkeyType",
            "raw sqlite3",
            "SQLiteStore",
            "x MonkeyType (>=5)",
            "time / raw (<=1.5)",
        ),
        rows,
    )


def bench_add_fresh(tmp: str, n: int, batch: int, rounds: int) -> None:
    """A traced program's whole run from scratch: ``n`` traces in adds of ``batch`` into a new store.

    Every store (and raw table) is new in each round; creating it is not timed.
    """
    workload = production_workload(n, seed=n + 1)
    batches = [workload[i : i + batch] for i in range(0, n, batch)]
    pre = [encoded(b) for b in batches]
    seconds: Dict[str, List[float]] = {"mt": [], "raw": [], "ours": []}
    for index in range(rounds):
        path = functools.partial(os.path.join, tmp)
        runs: Dict[str, Tuple[Callable[[Any], object], Sequence[Any]]] = {
            "mt": (monkeytype_store(path(f"fresh{index}-mt.sqlite3")).add, batches),
            "raw": (RawTable(path(f"fresh{index}-raw.sqlite3")).insert, pre),
            "ours": (SQLiteStore.make_store(path(f"fresh{index}.sqlite3")).add, batches),
        }
        for name, (add, parts) in runs.items() if index % 2 else reversed(runs.items()):
            start = time.perf_counter()
            for part in parts:
                add(part)
            seconds[name].append(time.perf_counter() - start)
    med = {name: statistics.median(values) for name, values in seconds.items()}
    distinct = len(set(row[1:] for part in pre for row in part))
    print_table(
        f"add: a whole traced run into a fresh store, {n:,} production-like traces ({distinct:,} distinct) "
        f"in adds of {batch:,} (traces/s; median of {rounds} rounds)",
        ("MonkeyType", "raw sqlite3", "SQLiteStore", "x MonkeyType (>=5)", "time / raw (<=1.5)"),
        [(n / med["mt"], n / med["raw"], n / med["ours"], med["mt"] / med["ours"], med["ours"] / med["raw"])],
    )


def bench_add_distinct(tmp: str, size: int, rounds: int) -> None:
    traces = distinct_traces(size * (rounds + 1))
    batches = [traces[i * size : (i + 1) * size] for i in range(rounds + 1)]
    pre = [encoded(b) for b in batches]
    ours = SQLiteStore.make_store(os.path.join(tmp, "distinct.sqlite3"))
    theirs = monkeytype_store(os.path.join(tmp, "distinct-mt.sqlite3"))
    raw = RawTable(os.path.join(tmp, "distinct-raw.sqlite3"))
    med = timed_rounds(
        {"mt": each(theirs.add, batches), "raw": each(raw.insert, pre), "ours": each(ours.add, batches)},
        rounds,
    )
    print_table(
        f"add: worst case for deduplication, every trace new ({size:,} per add; traces/s)",
        ("MonkeyType", "raw sqlite3", "SQLiteStore", "x MonkeyType", "time / raw"),
        [
            (
                size / med["mt"],
                size / med["raw"],
                size / med["ours"],
                med["mt"] / med["ours"],
                med["ours"] / med["raw"],
            )
        ],
    )


# -- filter -----------------------------------------------------------------------------------


class Filled:
    """Our store and MonkeyType's table, each given the same ``traces`` (MonkeyType keeps repeats)."""

    def __init__(self, tmp: str, label: str, traces: Sequence[CallTrace]) -> None:
        self.label, self.n = label, len(traces)
        self.path = os.path.join(tmp, f"filter-{label}.sqlite3")
        self.mt_path = os.path.join(tmp, f"filter-{label}-mt.sqlite3")
        self.store = SQLiteStore.make_store(self.path)
        self.load_seconds = load(self.store, traces)
        self.theirs = monkeytype_store(self.mt_path)
        raw = RawTable(self.mt_path)  # MonkeyType's own table, filled the fast way
        for i in range(0, self.n, LOAD_BATCH):
            raw.insert(encoded(traces[i : i + LOAD_BATCH]))

    def ours(self, prefix: Optional[str]) -> object:
        return self.store.filter(MODULE, prefix, LIMIT)

    def monkeytype(self) -> object:
        return self.theirs.filter(MODULE, None, LIMIT)


def bench_filter(tmp: str, sizes: Sequence[int], repeat: int) -> Filled:
    """Distinct tables of each size, and the smallest's traces each added ``big / small`` times."""
    small_n, big_n = sizes[0], sizes[-1]
    filled = [Filled(tmp, f"{n:,}", filter_corpus(n)) for n in sizes]
    filled.append(
        Filled(tmp, f"{big_n:,} repeated", repeated(filter_corpus(small_n), big_n // small_n, seed=1))
    )
    small, big, rep = filled[0], filled[-2], filled[-1]
    rows: List[Tuple[object, ...]] = []
    for label, prefix in FILTER_QUERIES:
        ms = interleaved({f.label: functools.partial(f.ours, prefix) for f in filled}, repeat)
        counts = "/".join(str(len(f.store.filter(MODULE, prefix, LIMIT))) for f in filled)
        figures = [ms[f.label] * 1e3 for f in filled[:-1]]
        ratios = (ms[big.label] / ms[small.label], ms[rep.label] * 1e3, ms[rep.label] / ms[small.label])
        rows.append((label, *figures, *ratios, counts))
    mt = interleaved({f.label: f.monkeytype for f in filled}, 3)
    figures = [mt[f.label] * 1e3 for f in filled[:-1]]
    ratios = (mt[big.label] / mt[small.label], mt[rep.label] * 1e3, mt[rep.label] / mt[small.label])
    rows.append(("MonkeyType, no prefix", *figures, *ratios, ""))
    print_table(
        f"filter(limit={LIMIT}) latency, ms (median of {repeat}); {MODULE} holds a third of the traces; "
        f"'{rep.label}': {small_n:,} distinct traces each added {big_n // small_n} times, shuffled",
        (
            "query",
            *[f"{f.label} stored" for f in filled[:-1]],
            f"{big.label} / {small.label} (<=1.5)",
            f"{rep.label}",
            f"{rep.label} / {small.label} (<=1.5)",
            "results",
        ),
        rows,
    )
    print_table(
        f"bulk load through SQLiteStore.add ({LOAD_BATCH:,} traces per add)",
        ("traces added", "seconds", "traces/s"),
        [(f.label, f.load_seconds, f.n / f.load_seconds) for f in filled],
    )
    print_table(
        "storage: bytes on disk per added trace (both files checkpointed)",
        ("traces added", "SQLiteStore", "MonkeyType"),
        [(f.label, file_bytes(f.path) / f.n, file_bytes(f.mt_path) / f.n) for f in filled],
    )
    print_table(
        "filter memory: peak Python allocation (tracemalloc; not SQLite's page cache)",
        ("operation", "SQLiteStore", "MonkeyType"),
        [
            (
                f"filter, no prefix, {f.label} stored",
                peak_memory(functools.partial(f.ours, None)),
                peak_memory(f.monkeytype),
            )
            for f in (big, rep)
        ],
    )
    return big


def wide_module(functions_per_class: int, traces_per_function: int) -> List[CallTrace]:
    """Traces of a module with classes ``C`` and ``D`` of many methods (never decoded here)."""
    funcs = []
    for cls in ("C", "D"):
        for index in range(functions_per_class):

            def method() -> None:
                pass

            method.__module__, method.__qualname__ = WIDE, f"{cls}.m{index}"
            funcs.append(method)
    traces = [
        CallTrace(func, {"self": int, f"a{i}": TYPES[i % 20]}, None)
        for func in funcs
        for i in range(traces_per_function)
    ]
    random.Random(0).shuffle(traces)
    return traces


def bench_plans(filled: Filled, repeat: int) -> None:
    """Each prefix plan on its own, and ``filter``'s choice, in three kinds of module."""
    store = filled.store
    conn, names = store._connection(), store._names
    hot = next(f for f in functions() if f.__module__ == MODULE)
    cases = [
        ("dense: 'Handler', 5 of 15 functions", MODULE, "Handler", None),
        (
            "sparse: 'Handler14', all under 60,000 newer rows",
            MODULE,
            "Handler14",
            [CallTrace(hot, {"key": int, f"newer{i}": str}, int) for i in range(60_000)],
        ),
        ("wide: 'C.', 200 of 400 functions, 25 rows each", WIDE, "C.", wide_module(200, 25)),
    ]
    rows = []
    for label, module, prefix, extra in cases:
        if extra:
            load(store, extra)
        mod_id = sqlite_plans.module_id(conn, names, module)
        assert mod_id is not None
        matching = sqlite_plans.matching_funcs(conn, names, mod_id, prefix)
        total = sqlite_plans.count_funcs(conn, names, mod_id)
        ms = interleaved(
            {
                "scan": functools.partial(sqlite_plans.scan, conn, names, mod_id, matching, LIMIT, 10**9),
                "merge": functools.partial(sqlite_plans.merge, conn, names, matching, LIMIT),
                "filter": functools.partial(store.filter, module, prefix, LIMIT),
            },
            repeat,
        )
        plan = sqlite_plans.choose_plan(len(matching), total, LIMIT)
        rows.append((label, ms["scan"] * 1e3, ms["merge"] * 1e3, ms["filter"] * 1e3, plan))
    print_table(
        f"prefix plans, ms (median of {repeat}; {filled.n:,} traces stored): scan unbounded, merge, "
        "and filter running the chosen plan (a scan past its budget falls back to merge)",
        ("case", "scan", "merge", "filter", "chosen"),
        rows,
    )


# -- the repetitive workload: storage and memory ------------------------------------------------


def bench_repetitive(tmp: str, n: int, batch: int) -> None:
    traces = production_workload(n, seed=7)
    ours_path, mt_path = os.path.join(tmp, "prod.sqlite3"), os.path.join(tmp, "prod-mt.sqlite3")
    ours, theirs = SQLiteStore.make_store(ours_path), monkeytype_store(mt_path)
    peaks = {"ours": 0, "mt": 0}
    for i in range(0, n, batch):
        chunk = traces[i : i + batch]
        peaks["ours"] = max(peaks["ours"], peak_memory(functools.partial(ours.add, chunk)))
        peaks["mt"] = max(peaks["mt"], peak_memory(functools.partial(theirs.add, chunk)))
    distinct = len({r.as_tuple() for r in serialize_traces(traces)})
    ours_bytes, mt_bytes = file_bytes(ours_path), file_bytes(mt_path)
    print_table(
        f"{n:,} production-like traces ({distinct:,} distinct), {batch:,} per add",
        ("store", "bytes on disk", "bytes per added trace", f"peak Python memory of an add of {batch:,}"),
        [
            ("SQLiteStore", ours_bytes, ours_bytes / n, peaks["ours"]),
            ("MonkeyType", mt_bytes, mt_bytes / n, peaks["mt"]),
        ],
    )
    assert sorted(ours.list_modules()) == sorted(module_names())


def main() -> None:
    args = parse_args(__doc__ or "")
    quick = args.quick
    print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, load average {load_average()}")
    with tempfile.TemporaryDirectory() as tmp:
        bench_add(tmp, [1_000, 5_000] if quick else [1_000, 10_000, 50_000], args.rounds)
        bench_add_fresh(tmp, 5_000 if quick else 50_000, 1_000, args.rounds)
        bench_add_distinct(tmp, 2_000 if quick else 10_000, args.rounds)
        big = bench_filter(tmp, [10_000, 50_000] if quick else [100_000, 1_000_000], 5 if quick else 25)
        bench_plans(big, 5 if quick else 15)
        bench_repetitive(tmp, 20_000 if quick else 200_000, 10_000)
    print(f"\nload average at the end {load_average()} (other processes share the CPUs: compare ratios)")


def load_average() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
