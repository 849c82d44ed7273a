"""SQLiteStore under concurrent writer processes, SIGKILL mid-add, and corrupt rows in the file."""

from __future__ import annotations

import pathlib
import sqlite3

from reference_stores.sqlite import SQLiteStore
from tests.support.reliability import (
    concurrent_writers,
    corrupt_row_problems,
    kill_during_add,
    missing_writer_traces,
    tagged_traces,
)
from tracestore import CallTrace

SPEC = "reference_stores.sqlite:SQLiteStore"
PROCESSES = 4
TRACES_PER_PROCESS = 2000
MODULE = "tracestore_workload.mod00"


def test_concurrent_writer_processes_lose_nothing_and_never_see_locked(tmp_path: pathlib.Path) -> None:
    conn = str(tmp_path / "traces.sqlite3")
    errors = concurrent_writers(SPEC, conn, processes=PROCESSES, traces_per_process=TRACES_PER_PROCESS)
    assert errors == [None] * PROCESSES, "\n".join(e for e in errors if e)
    assert missing_writer_traces(SPEC, conn, PROCESSES, TRACES_PER_PROCESS) == []


def test_writer_processes_creating_the_file_at_once_lose_nothing(tmp_path: pathlib.Path) -> None:
    conn = str(tmp_path / "traces.sqlite3")
    errors = concurrent_writers(
        SPEC, conn, processes=6, traces_per_process=100, batch_size=20, race_open=True
    )
    assert errors == [None] * 6, "\n".join(e for e in errors if e)
    assert missing_writer_traces(SPEC, conn, 6, 100) == []


def test_sigkill_during_add_keeps_earlier_adds_and_is_all_or_nothing(tmp_path: pathlib.Path) -> None:
    conn = str(tmp_path / "traces.sqlite3")
    report = kill_during_add(SPEC, conn, phases=("after_input", "after_input", "after_input", "mid_input"))
    assert report.problems == [], "\n".join(report.problems)
    assert len(report.rounds) == 4
    assert all(r.completed_batches >= 1 for r in report.rounds)


def _one_module_traces(count: int) -> list[CallTrace]:
    return [t for t in tagged_traces("corrupt", count * 20) if t.func.__module__ == MODULE][:count]


def test_corrupt_json_written_through_monkeytypes_table_spoils_only_its_row(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "traces.sqlite3"
    store = SQLiteStore.make_store(str(path))
    good = _one_module_traces(30)
    store.add(good)
    with sqlite3.connect(str(path)) as raw:  # MonkeyType's table is a view; its trigger keeps the row
        raw.execute(
            "INSERT INTO monkeytype_call_traces VALUES (?, ?, ?, ?, ?, ?)",
            ("2024-01-01 00:00:00", MODULE, "func0", '{"x": {"module": ', None, None),
        )
    raw.close()
    assert corrupt_row_problems(store, MODULE, good) == []
    elsewhere = [t for t in tagged_traces("other", 20) if t.func.__module__ != MODULE]
    store.add(elsewhere[:1])  # folds the row into the traces table
    assert corrupt_row_problems(store, MODULE, good) == []
    reopened = SQLiteStore.make_store(str(path))
    assert corrupt_row_problems(reopened, MODULE, good) == []


def test_corrupt_json_in_the_traces_table_spoils_only_its_row(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "traces.sqlite3"
    store = SQLiteStore.make_store(str(path))
    good = _one_module_traces(30)
    store.add(good)
    with sqlite3.connect(str(path)) as raw:  # the newest row: the last trace added
        raw.execute(
            'UPDATE monkeytype_call_traces__ts_traces SET return_type = \'{"module": "builtins"\' '
            "WHERE id = (SELECT trace_id FROM monkeytype_call_traces__ts_recent ORDER BY seq DESC LIMIT 1)"
        )
    raw.close()
    assert corrupt_row_problems(store, MODULE, good[:-1]) == []
