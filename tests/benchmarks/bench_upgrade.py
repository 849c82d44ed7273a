"""Upgrading a MonkeyType file (``python -m tracestore upgrade PATH``): time, and size before and after.

Run: ``python -m tests.benchmarks.bench_upgrade [--quick] [--rows N]`` (or ``nox -s bench``).

MonkeyType 23.3.0's own ``SQLiteStore.add`` writes N traces of the production-like
workload (``tests.support.workload``, repeats and all; ``--distinct``: N distinct traces)
into a file, in tracer-sized batches: MonkeyType's own size.  The upgrade then runs as a
user runs it, in a child process; the figures are its wall time, the file's size after it
(``VACUUM``: no free pages), and, for scale, the size of a fresh ``SQLiteStore`` given the same traces.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from monkeytype.db.sqlite import SQLiteStore as MonkeyTypeSQLiteStore

from reference_stores.sqlite import SQLiteStore
from tests.benchmarks.common import print_table
from tests.support.workload import distinct_traces, production_workload

ROOT = Path(__file__).resolve().parents[2]
BATCH = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50,000 rows, for a smoke run")
    parser.add_argument("--rows", type=int, default=None, help="MonkeyType rows (default 1,000,000)")
    parser.add_argument(
        "--distinct", action="store_true", help="every trace distinct (the largest upgraded file)"
    )
    args = parser.parse_args()
    n = args.rows or (50_000 if args.quick else 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        path, fresh = Path(tmp) / "monkeytype.sqlite3", Path(tmp) / "fresh.sqlite3"
        traces = distinct_traces(n) if args.distinct else production_workload(n)
        theirs = MonkeyTypeSQLiteStore.make_store(str(path))
        assert isinstance(theirs, MonkeyTypeSQLiteStore)
        ours = SQLiteStore.make_store(str(fresh))
        for start in range(0, n, BATCH):
            theirs.add(traces[start : start + BATCH])  # type: ignore[arg-type]  # duck-typed traces
            ours.add(traces[start : start + BATCH])
        theirs.conn.close()
        ours.close()
        del traces
        before = path.stat().st_size
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "tracestore", "upgrade", str(path)],
            capture_output=True,
            text=True,
            env=env,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"upgrade failed:\n{done.stderr}")
        conn = sqlite3.connect(str(path))
        (free,) = conn.execute("PRAGMA freelist_count").fetchone()
        (distinct,) = conn.execute("SELECT count(*) FROM monkeytype_call_traces__ts_recent").fetchone()
        conn.close()
        after = path.stat().st_size
        print_table(
            f"upgrade of a MonkeyType file of {n:,} rows ({distinct:,} distinct) in a child process",
            ["file", "bytes", "MiB", "note"],
            [
                ["MonkeyType's own file (before)", before, before / 2**20, "MonkeyType 23.3.0 add"],
                ["after the upgrade", after, after / 2**20, f"{seconds:.1f} s wall, {free} free pages"],
                ["fresh SQLiteStore, same traces", fresh.stat().st_size, fresh.stat().st_size / 2**20, ""],
            ],
        )
        print(done.stderr.strip())


if __name__ == "__main__":
    main()
