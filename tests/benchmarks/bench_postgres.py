"""PostgresStore speed: add throughput and filter latency, against SQLite stores in the same run.

Run: ``python -m tests.benchmarks.bench_postgres [--quick]`` (or ``nox -s bench``); needs the
server of ``TRACESTORE_PG_DSN`` (default ``postgresql://postgres@127.0.0.1:5432/test``).

* add: the production-like workload, in tracer-sized batches and as one batch, into a fresh
  store per round; PostgresStore, our SQLiteStore and MonkeyType's SQLiteStore alternate.
* filter(limit=2000): at 100,000 and 1,000,000 stored distinct traces
  (``tests.support.workload.filter_corpus``; bulk-loaded: COPY for PostgreSQL), against our
  SQLiteStore and MonkeyType's holding the same rows.

Every figure's last two columns are ratios to our SQLiteStore and to MonkeyType's store,
measured in this run (>1: faster).
"""

from __future__ import annotations

import datetime
import functools
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from monkeytype.db.sqlite import SQLiteStore as MonkeyTypeSQLiteStore
from psycopg import sql

from reference_stores.postgres import PostgresStore
from reference_stores.postgres.rows import make_batch
from reference_stores.sqlite import SQLiteStore
from tests.benchmarks.common import FILTER_QUERIES, parse_args, print_table, timed
from tests.support.postgres import SchemaFactory, admin_connect, require_server
from tests.support.workload import FILTER_MODULE, filter_corpus, production_workload
from tracestore import CallTraceRow, serialize_traces

Store = Any  # each contender's own store class
MONKEYTYPE = "MonkeyType SQLiteStore"
SQLITE = "tracestore SQLiteStore"


class Contender:
    """One store implementation: how to make a fresh one and how to bulk-load rows into it."""

    def __init__(
        self,
        name: str,
        fresh: Callable[[], Store],
        bulk_load: Optional[Callable[[Store, List[Any]], None]] = None,
    ) -> None:
        self.name = name
        self.fresh = fresh
        self.bulk_load = bulk_load  # None: not in the filter benchmark


def contenders(schemas: SchemaFactory, directory: Path) -> List[Contender]:
    counter = iter(range(1_000_000))

    def path(label: str) -> str:
        return str(directory / f"{label}{next(counter)}.sqlite3")

    found = [
        Contender(
            "PostgresStore",
            lambda: PostgresStore.make_store(schemas.connection_string()),
            _copy_into_postgres,
        )
    ]
    found.append(Contender(SQLITE, lambda: SQLiteStore.make_store(path("ours")), _add_in_chunks))
    found.append(
        Contender(
            MONKEYTYPE,
            lambda: MonkeyTypeSQLiteStore.make_store(path("mt")),
            _insert_into_monkeytype,
        )
    )
    return found


def _add_all(store: Store, batches: List[List[Any]]) -> None:
    for batch in batches:
        store.add(batch)


def _add_in_chunks(store: Store, traces: List[Any]) -> None:
    for start in range(0, len(traces), 100_000):
        store.add(traces[start : start + 100_000])


def _copy_into_postgres(store: PostgresStore, traces: List[Any]) -> None:
    """COPY distinct rows straight into a fresh store's table (seq follows the COPY order)."""
    batch = make_batch(serialize_traces(traces))
    config = store._config
    table = sql.Identifier(config.schema, config.table)
    copy_sql = sql.SQL(
        "COPY {} (trace_key, module, qualname, arg_types, return_type, yield_type) FROM STDIN (FORMAT BINARY)"
    ).format(table)
    with admin_connect() as conn:
        with conn.cursor().copy(copy_sql) as copy:
            copy.set_types(["bytea", "text", "text", "text", "text", "text"])
            for row in zip(*batch):
                copy.write_row(row)
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(table))


def _insert_into_monkeytype(store: MonkeyTypeSQLiteStore, traces: List[Any]) -> None:
    """The rows MonkeyType's own ``add`` writes (same JSON, E3), inserted in one transaction."""
    now = datetime.datetime.now()
    rows = [(now, *row.as_tuple()) for row in serialize_traces(traces)]
    with store.conn:
        store.conn.executemany(f"INSERT INTO {store.table} VALUES (?, ?, ?, ?, ?, ?)", rows)


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
        if contender.bulk_load is None:
            continue
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
    """One row per store, then its speed relative to our SQLiteStore's and MonkeyType's (>1: faster)."""
    rows = [
        (name, *cells(name, s), medians[SQLITE] / s, medians[MONKEYTYPE] / s) for name, s in medians.items()
    ]
    print_table(title, (*header, "x SQLiteStore", "x MonkeyType"), rows)


def main() -> None:
    args = parse_args(__doc__ or "")
    require_server_or_exit()
    schemas = SchemaFactory("bench")
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="bench_postgres") as directory:
            all_contenders = contenders(schemas, Path(directory))
            n = 2_000 if args.quick else 20_000
            bench_add(all_contenders, n, batch=1_000, rounds=args.rounds)
            bench_add(all_contenders, n, batch=n, rounds=args.rounds)
            for size in (2_000, 20_000) if args.quick else (100_000, 1_000_000):
                bench_filter(all_contenders, size, rounds=max(args.rounds, 9))
                schemas.drop_all()
    finally:
        schemas.drop_all()
    print(f"\nbench_postgres took {time.perf_counter() - start:.0f} s")


def require_server_or_exit() -> None:
    import pytest  # require_server reports through pytest's outcomes

    try:
        require_server()
    except (pytest.skip.Exception, pytest.fail.Exception) as outcome:
        raise SystemExit(f"bench_postgres: {outcome}") from None


if __name__ == "__main__":
    main()
