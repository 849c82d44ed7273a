"""A copy streams: its private memory does not grow with the store (a copy of 400k rows vs one of 100k).

Each copy runs as ``python -m tracestore copy`` in a child of its own (``tests.support.memory``).
No timing is asserted.  The stores' caches are bounded (SQLite's 32 MiB page cache, the
LMDB text and row caches, the SQLite id cache) and full at 100,000 rows already (a
50,000-row copy is ~37 MiB below its plateau), so a streaming copy hardly grows between
the two sizes (0-5 MiB measured).  A copy that held the rows would grow by at least
~90 bytes a row (LMDB shares the texts of its rows; SQLite's rows are ~600 bytes each):
26 MiB or more for the 300,000 more rows.
"""

from __future__ import annotations

import pathlib
from typing import Dict

import pytest

from reference_stores.lmdb import LMDBStore
from reference_stores.sqlite import SQLiteStore
from tests.support.memory import measure_main
from tests.support.workload import distinct_traces

SIZES = (100_000, 400_000)
MAX_GROWTH_MIB = 15.0


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Dict[int, pathlib.Path]:
    """A SQLite and an LMDB store of each size (distinct traces), in one directory per size."""
    made = {}
    traces = distinct_traces(max(SIZES))
    for size in SIZES:
        directory = tmp_path_factory.mktemp(f"copy_memory_{size}")
        for store in (
            SQLiteStore.make_store(str(directory / "src.sqlite3")),
            LMDBStore.make_store(str(directory / "src.lmdb")),
        ):
            for start in range(0, size, 50_000):
                store.add(traces[start : min(size, start + 50_000)])
            store.close()
        made[size] = directory
    return made


@pytest.mark.parametrize(
    ("src", "dst"),
    [("sqlite=src.sqlite3", "lmdb=dst.lmdb"), ("lmdb=src.lmdb", "sqlite=dst.sqlite3")],
    ids=["sqlite-lmdb", "lmdb-sqlite"],
)
def test_copy_memory_does_not_grow_with_the_store(
    sources: Dict[int, pathlib.Path], src: str, dst: str
) -> None:
    peaks = {}
    for size, directory in sources.items():
        alias_src, name_src = src.split("=")
        alias_dst, name_dst = dst.split("=")
        argv = [
            "copy",
            "--quiet",
            f"{alias_src}={directory / name_src}",
            f"{alias_dst}={directory / name_dst}",
        ]
        peaks[size] = measure_main(argv, timeout=600).peak_private_mib
    small, large = peaks[SIZES[0]], peaks[SIZES[1]]
    print(
        f"{src} -> {dst}: peak private {small:.0f} MiB at {SIZES[0]:,} rows, {large:.0f} MiB at {SIZES[1]:,}"
    )
    assert large - small < MAX_GROWTH_MIB, (
        f"private memory {small:.0f} MiB at {SIZES[0]:,} rows, {large:.0f} MiB at {SIZES[1]:,}"
    )
