"""LMDBStore under stress: concurrent writer processes, SIGKILL mid-add, corrupt rows (S9, S10, S11).

The scenarios come from the store-agnostic harness ``tests.support.reliability``;
here they run on LMDB environments, also with a tiny initial map, so that writers
grow the map (and adopt each other's growth) while they race and die.
"""

from __future__ import annotations

import pathlib
from typing import Any

import lmdb
import pytest

from reference_stores.lmdb import LMDBStore
from reference_stores.lmdb.keys import RowTuple
from reference_stores.lmdb.names import NameCache
from reference_stores.lmdb.types import DB_NAMES, Dbs
from reference_stores.lmdb.write import write_rows
from tests.support.reliability import (
    concurrent_writers,
    corrupt_row_problems,
    kill_during_add,
    missing_writer_traces,
    tagged_traces,
)
from tracestore import CallTraceRow

SPEC = "reference_stores.lmdb:LMDBStore"
MAP_OPTIONS = {"default map": "", "tiny map": "?map_size=65536"}


@pytest.mark.parametrize("options", MAP_OPTIONS.values(), ids=MAP_OPTIONS.keys())
def test_S11_concurrent_writer_processes_lose_nothing(tmp_path: pathlib.Path, options: str) -> None:
    connection_string = f"{tmp_path}/traces.lmdb{options}"
    errors = concurrent_writers(SPEC, connection_string, processes=4, traces_per_process=1000, batch_size=40)
    assert errors == [None] * 4
    assert missing_writer_traces(SPEC, connection_string, 4, 1000) == []


@pytest.mark.parametrize("options", MAP_OPTIONS.values(), ids=MAP_OPTIONS.keys())
def test_S10_a_writer_killed_inside_add_leaves_a_sound_store(tmp_path: pathlib.Path, options: str) -> None:
    report = kill_during_add(SPEC, f"{tmp_path}/traces.lmdb{options}", batch_size=4000)
    assert report.problems == []
    assert [r.phase for r in report.rounds] == ["after_input", "after_input", "mid_input"]
    assert all(r.completed_batches >= 1 and r.interrupted_present is not None for r in report.rounds)


def write_row_directly(path: pathlib.Path, row: RowTuple) -> None:
    """Store ``row`` with a raw py-lmdb transaction, bypassing ``add`` and its encoder."""
    env: Any = lmdb.open(str(path), max_dbs=len(DB_NAMES) + 2)  # Any: our Txn protocol, not the stubs
    try:
        with env.begin(write=True) as txn:
            dbs = Dbs(*(env.open_db(name, txn=txn, create=False) for name in DB_NAMES))
            write_rows(txn, dbs, [row], NameCache())
    finally:
        env.close()


def test_S9_a_corrupt_json_row_spoils_only_its_own_thunk(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "traces.lmdb"
    candidates = tagged_traces("good", 40)
    module = candidates[0].func.__module__
    good = [t for t in candidates if t.func.__module__ == module]
    store = LMDBStore.make_store(str(path))
    store.add(good)
    store.close()
    row = CallTraceRow.from_trace(good[0])
    write_row_directly(path, (module, row.qualname, '{"key": {"module": "builtins", "qualn', None, None))
    write_row_directly(path, (module, row.qualname, row.arg_types, "[1, 2", None))
    reopened = LMDBStore.make_store(str(path))
    assert corrupt_row_problems(reopened, module, good, corrupt=2) == []
    assert len(reopened.filter(module, row.qualname)) == 2 + sum(t.func is good[0].func for t in good)
    reopened.close()
