"""``python -m tracestore copy`` speed and memory between the reference stores, rows as they are.

Run: ``python -m tests.benchmarks.bench_copy [--quick] [--traces N]`` (or ``nox -s bench``).

For N distinct traces (default 1,000,000; ``--quick``: 50,000), sources are filled once
(SQLiteStore, LMDBStore), then each copy runs as the user runs it, ``python -m tracestore
copy --quiet SRC DST``, in a child process of its own (``tests.support.memory``), which
reports its wall time, peak RSS and peak private memory.  The baseline, measured in the
same run: MonkeyType's own ``SQLiteStore.add`` of the same N traces, in the copy's batch
size, into a fresh file.  A child that only starts Python and imports the stores gives
the memory floor.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, List, Optional, Tuple

import psycopg
from monkeytype.db.sqlite import SQLiteStore as MonkeyTypeSQLiteStore

from reference_stores.lmdb import LMDBStore
from reference_stores.sqlite import SQLiteStore
from tests.benchmarks.common import print_table
from tests.support.memory import measure_main
from tests.support.postgres import server_dsn, server_problem
from tests.support.workload import distinct_traces
from tracestore.copy import DEFAULT_BATCH_SIZE

PAIRS = ["sqlite-lmdb", "lmdb-sqlite", "lmdb-postgres", "lmdb-lmdb", "sqlite-sqlite", "sqlite-monkeytype"]
NAMES = {"sqlite": "SQLite", "lmdb": "LMDB", "postgres": "PostgreSQL", "monkeytype": "MonkeyType file"}


def monkeytype_add(path: Path, traces: List[Any]) -> Tuple[float, float]:
    """MonkeyType's add of ``traces`` in the copy's batch size: wall and CPU seconds."""
    store = MonkeyTypeSQLiteStore.make_store(str(path))
    assert isinstance(store, MonkeyTypeSQLiteStore)
    start, cpu = time.perf_counter(), time.process_time()
    for begin in range(0, len(traces), DEFAULT_BATCH_SIZE):
        store.add(traces[begin : begin + DEFAULT_BATCH_SIZE])
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    store.conn.close()
    return seconds, cpu


def fill(store: Any, traces: List[Any]) -> None:
    for begin in range(0, len(traces), 50_000):
        store.add(traces[begin : begin + 50_000])
    store.close()


def postgres_spec() -> Optional[Tuple[str, str]]:
    """A fresh schema's store spec on the test server, and the schema, or None without a server."""
    if server_problem() is not None:
        return None
    schema = f"bench_copy_{uuid.uuid4().hex[:12]}"
    return f"postgres={server_dsn()}{'&' if '?' in server_dsn() else '?'}tracestore_schema={schema}", schema


def drop_schema(schema: str) -> None:
    with psycopg.connect(server_dsn(), autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(psycopg.sql.Identifier(schema))
        )


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50,000 traces, for a smoke run")
    parser.add_argument("--traces", type=int, default=None, help="traces per copy (default 1,000,000)")
    parser.add_argument(
        "--pairs", default=None, help=f"comma-separated copies to run (default all: {', '.join(PAIRS)})"
    )
    args = parser.parse_args()
    wanted = PAIRS if args.pairs is None else args.pairs.split(",")
    unknown = sorted(set(wanted) - set(PAIRS))
    if unknown:
        parser.error(f"unknown pair(s) {', '.join(unknown)}; known: {', '.join(PAIRS)}")
    n = args.traces or (50_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        traces = distinct_traces(n)
        idle = measure_main([])
        floor, anon_floor = idle.peak_rss_mib, idle.peak_private_mib
        mt_seconds, mt_cpu = monkeytype_add(directory / "monkeytype.sqlite3", traces)
        fill(SQLiteStore.make_store(str(directory / "src.sqlite3")), traces)
        fill(LMDBStore.make_store(str(directory / "src.lmdb")), traces)
        del traces
        specs = {
            "sqlite": f"sqlite={directory / 'src.sqlite3'}",
            "lmdb": f"lmdb={directory / 'src.lmdb'}",
        }
        schemas: List[str] = []
        copies = []
        for pair in wanted:
            src, dst = pair.split("-")
            if dst == "postgres":
                pg = postgres_spec()
                if pg is None:
                    print(f"PostgreSQL is not reachable: {pair} left out")
                    continue
                target, _ = pg
                schemas.append(pg[1])
            else:
                target = f"{dst}={directory / ('dst_' + pair)}"
            copies.append((f"{NAMES[src]} -> {NAMES[dst]}", specs[src], target))
        rows: List[List[object]] = []
        try:
            for label, src, dst in copies:
                result = measure_main(["copy", "--quiet", src, dst])
                rate = n / result.seconds
                ratio = f"{rate / (n / mt_seconds):.2f}x"
                cpu_rate = n / result.cpu_seconds
                rows.append(
                    [
                        label,
                        result.seconds,
                        f"{rate:,.0f}",
                        ratio,
                        f"{cpu_rate:,.0f}",
                        f"{cpu_rate / (n / mt_cpu):.2f}x",
                        result.peak_rss_mib,
                        result.peak_private_mib,
                    ]
                )
        finally:
            for schema in schemas:
                drop_schema(schema)
    print_table(
        f"copy of {n:,} distinct traces, rows as they are (python -m tracestore copy, one child each); "
        f"baseline: MonkeyType SQLiteStore.add of the same traces, {n / mt_seconds:,.0f} traces/s "
        f"({mt_seconds:.1f} s, {n / mt_cpu:,.0f} traces per CPU-second); "
        f"Python + store imports alone: {floor:.0f} MiB RSS, {anon_floor:.0f} MiB private",
        [
            "copy",
            "seconds",
            "traces/s",
            "vs MonkeyType add",
            "traces/CPU-s",
            "vs MonkeyType (CPU)",
            "peak RSS MiB",
            "peak private MiB",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
