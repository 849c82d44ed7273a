"""MySQLStore speed: add throughput and filter latency, against PostgreSQL and SQLite stores in the same run.

Run: ``python -m tests.benchmarks.bench_mysql [--quick]`` (or ``nox -s bench``); needs the
servers of ``TRACESTORE_MYSQL_URL`` and ``TRACESTORE_PG_DSN``.

* add: the production-like workload, in tracer-sized batches and as one batch, into a fresh
  store per round; every contender alternates.
* filter(limit=2000): at 100,000 and 1,000,000 stored distinct traces
  (``tests.support.workload.filter_corpus``; loaded with ``add`` in 100,000-trace batches, COPY
  for PostgreSQL), against the others holding the same rows.

The last three columns are ratios to our SQLiteStore, PostgresStore and MonkeyType's
SQLiteStore, measured in this run (>1: MySQLStore or that row's store is faster).
"""

from __future__ import annotations

import functools
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import pytest
from monkeytype.db.sqlite import SQLiteStore as MonkeyTypeSQLiteStore

from reference_stores.mysql import MySQLStore
from reference_stores.postgres import PostgresStore
from reference_stores.sqlite import SQLiteStore
from tests.benchmarks.bench_postgres import (
    Contender,
    _add_all,
    _add_in_chunks,
    _copy_into_postgres,
    _insert_into_monkeytype,
)
from tests.benchmarks.common import FILTER_QUERIES, parse_args, print_table, timed
from tests.support import mysql, postgres
from tests.support.workload import FILTER_MODULE, filter_corpus, production_workload
from tracestore import CallTraceRow

Store = Any
MONKEYTYPE = "MonkeyType SQLiteStore"
SQLITE = "tracestore SQLiteStore"
POSTGRES = "PostgresStore"
MYSQL = "MySQLStore"


def contenders(
    tables: mysql.TableFactory, schemas: postgres.SchemaFactory, directory: Path
) -> List[Contender]:
    counter = iter(range(1_000_000))

    def path(label: str) -> str:
        return str(directory / f"{label}{next(counter)}.sqlite3")

    return [
        Contender(MYSQL, lambda: MySQLStore.make_store(tables.connection_string()), _add_in_chunks),
        Contender(
            POSTGRES, lambda: PostgresStore.make_store(schemas.connection_string()), _copy_into_postgres
        ),
        Contender(SQLITE, lambda: SQLiteStore.make_store(path("ours")), _add_in_chunks),
        Contender(MONKEYTYPE, lambda: MonkeyTypeSQLiteStore.make_store(path("mt")), _insert_into_monkeytype),
    ]


def bench_add(all_contenders: List[Contender], n: int, batch: int, rounds: int) -> None:
    traces = production_workload(n)
    batches = [traces[i : i + batch] for i in range(0, n, batch)]
    distinct = len(set(CallTraceRow.from_trace(t) for t in traces))
    seconds: Dict[str, List[float]] = {c.name: [] for c in all_contenders}
    for _ in range(rounds):
        for contender in all_contenders:
            store = contender.fresh()
            seconds[contender.name].append(timed(functools.partial(_add_all, store, batches))[0])
            if hasattr(store, "close"):
                store.close()
    _print_ratios(
        f"add: {n:,} production-like traces ({distinct:,} distinct) in batches of {batch:,}, "
        f"fresh store, median of {rounds} interleaved rounds",
        ("store", "traces/s", "ms per batch"),
        {name: statistics.median(values) for name, values in seconds.items()},
        lambda name, s: (n / s, 1000 * s / len(batches)),
    )


def bench_filter(all_contenders: List[Contender], size: int, rounds: int) -> None:
    traces = filter_corpus(size)
    stores: Dict[str, Store] = {}
    for contender in all_contenders:
        assert contender.bulk_load is not None
        store = contender.fresh()
        load, _ = timed(functools.partial(contender.bulk_load, store, traces))
        stores[contender.name] = store
        print(f"  loaded {size:,} distinct traces into {contender.name} in {load:.1f} s")
    for query, prefix in FILTER_QUERIES:
        seconds: Dict[str, List[float]] = {name: [] for name in stores}
        counts: Dict[str, int] = {}
        for _ in range(rounds):
            for name, store in stores.items():
                elapsed, found = timed(functools.partial(store.filter, FILTER_MODULE, prefix, 2000))
                seconds[name].append(elapsed)
                counts[name] = len(found)
        _print_ratios(
            f"filter({FILTER_MODULE!r}, {prefix!r}, limit=2000): {query}; {size:,} stored distinct traces, "
            f"median of {rounds} interleaved rounds",
            ("store", "ms", "results"),
            {name: statistics.median(values) for name, values in seconds.items()},
            functools.partial(_filter_cells, counts),
        )
    for store in stores.values():
        if hasattr(store, "close"):
            store.close()


def _filter_cells(counts: Dict[str, int], name: str, seconds: float) -> Tuple[Any, ...]:
    return (1000 * seconds, counts[name])


def _print_ratios(
    title: str,
    header: Sequence[str],
    medians: Dict[str, float],
    cells: Callable[[str, float], Tuple[Any, ...]],
) -> None:
    """One row per store, then its speed relative to the three baselines (>1: faster)."""
    rows = [
        (name, *cells(name, s), medians[SQLITE] / s, medians[POSTGRES] / s, medians[MONKEYTYPE] / s)
        for name, s in medians.items()
    ]
    print_table(title, (*header, "x SQLiteStore", "x PostgresStore", "x MonkeyType"), rows)


def main() -> None:
    args = parse_args(__doc__ or "")
    require_servers_or_exit()
    tables, schemas = mysql.TableFactory("bench"), postgres.SchemaFactory("bench")
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="bench_mysql") as directory:
            all_contenders = contenders(tables, schemas, Path(directory))
            n = 2_000 if args.quick else 20_000
            bench_add(all_contenders, n, batch=1_000, rounds=args.rounds)
            bench_add(all_contenders, n, batch=n, rounds=args.rounds)
            for size in (2_000, 20_000) if args.quick else (100_000, 1_000_000):
                bench_filter(all_contenders, size, rounds=max(args.rounds, 9))
                tables.drop_all()
                schemas.drop_all()
    finally:
        tables.drop_all()
        schemas.drop_all()
    print(f"\nbench_mysql took {time.perf_counter() - start:.0f} s")


def require_servers_or_exit() -> None:
    try:
        mysql.require_server()
        postgres.require_server()
    except (pytest.skip.Exception, pytest.fail.Exception) as outcome:
        raise SystemExit(f"bench_mysql: {outcome}") from None


if __name__ == "__main__":
    main()
