"""MySQLStore under a fleet: many processes at once, and connections KILLed mid-``add``."""

from __future__ import annotations

import multiprocessing
import threading
import time
import traceback
from typing import Any, Callable, Iterator, List, Tuple

import pytest

from reference_stores.mysql import MySQLStore
from tests.support.mysql import TableFactory, admin_connect, query, run_tables
from tests.support.reliability import concurrent_writers, kill_during_add, missing_writer_traces
from tests.support.workload import distinct_traces, production_workload
from tracestore import CallTraceRow, TraceStoreError

SPEC = "reference_stores.mysql:MySQLStore"
PROCESSES = 8
TRACES_PER_PROCESS = 2_000
HOT_TRACES = 2_000  # production-like: every process adds mostly the same few hundred traces
HOT_BATCH = 200


@pytest.fixture(scope="module")
def tables() -> Iterator[TableFactory]:
    yield from run_tables("fleet")


def table_rows(table: str) -> List[Tuple[Any, ...]]:
    found = query(f"SELECT module, qualname, arg_types, return_type, yield_type FROM `{table}`")
    return [tuple(None if value is None else bytes(value).decode() for value in row) for row in found]


def run_processes(target: Callable[..., None], args: List[Tuple[Any, ...]]) -> List[str]:
    """Start one spawned process per ``args`` entry, together (a barrier); their error reports."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(args))
    errors = context.Queue()
    processes = [context.Process(target=target, args=(barrier, errors, *each)) for each in args]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    reports = []
    while not errors.empty():
        reports.append(errors.get())
    for process in processes:
        if process.is_alive():
            process.kill()
            reports.append(f"process {process.pid} hung")
        elif process.exitcode != 0:
            reports.append(f"process {process.pid} exited with {process.exitcode}")
    return reports


def test_S11_eight_processes_write_2000_traces_each(tables: TableFactory) -> None:
    url = tables.connection_string()
    MySQLStore.make_store(url).close()
    errors = concurrent_writers(SPEC, url, processes=PROCESSES, traces_per_process=TRACES_PER_PROCESS)
    assert errors == [None] * PROCESSES
    assert missing_writer_traces(SPEC, url, PROCESSES, TRACES_PER_PROCESS) == []


def test_S11_eight_processes_create_the_store_at_once(tables: TableFactory) -> None:
    url = tables.connection_string()
    errors = concurrent_writers(SPEC, url, processes=PROCESSES, traces_per_process=200, race_open=True)
    assert errors == [None] * PROCESSES
    assert missing_writer_traces(SPEC, url, PROCESSES, 200) == []


def _hot_writer(barrier: Any, errors: Any, url: str, index: int) -> None:
    try:
        traces = production_workload(HOT_TRACES, seed=index)
        store = MySQLStore.make_store(url)
        barrier.wait(timeout=120)
        for start in range(0, HOT_TRACES, HOT_BATCH):
            store.add(traces[start : start + HOT_BATCH])
        store.close()
    except BaseException:
        errors.put(f"writer {index}: {traceback.format_exc()}")
        raise


def test_S11_processes_adding_the_same_traces_at_once(tables: TableFactory) -> None:
    """Overlapping batches delete and insert the same rows at once: deadlocks are retried inside
    the transaction boundary, and no row is lost or doubled."""
    table = tables.new_name()
    url = tables.connection_string(table)
    MySQLStore.make_store(url).close()
    reports = run_processes(_hot_writer, [(url, n) for n in range(PROCESSES)])
    assert reports == []
    expected = {
        CallTraceRow.from_trace(t) for n in range(PROCESSES) for t in production_workload(HOT_TRACES, seed=n)
    }
    stored = [CallTraceRow(*row) for row in table_rows(table)]
    assert len(stored) == len(set(stored))
    assert set(stored) == expected


def wait_for_transactions_on(table: str, timeout: int = 60) -> None:
    """Wait until no transaction uses ``table``: ``LOCK TABLES ... WRITE`` waits for their
    metadata locks. A client killed mid-``add`` leaves a transaction the server rolls back
    once it sees the socket closed; only after that is "all or nothing" observable."""
    conn = admin_connect()
    try:
        conn.query(f"SET SESSION lock_wait_timeout = {timeout}")
        conn.query(f"LOCK TABLES `{table}` WRITE")
        conn.query("UNLOCK TABLES")
    finally:
        conn.close()


def test_kill_9_during_add_is_all_or_nothing(tables: TableFactory) -> None:
    """A writer process killed by SIGKILL inside add: its transaction commits or rolls back whole."""
    table = tables.new_name()
    url = tables.connection_string(table)
    MySQLStore.make_store(url).close()
    report = kill_during_add(SPEC, url, settle=lambda: wait_for_transactions_on(table))
    assert report.problems == [], report.problems
    assert len(report.rounds) == 3, report.rounds


class Killer:
    """``KILL``s the connections that run an INSERT into ``table``, ``times`` times."""

    def __init__(self, table: str, times: int) -> None:
        self.table = table
        self.times = times
        self.killed: List[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Killer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        conn = admin_connect()
        try:
            cursor = conn.cursor()
            needle = f"INSERT INTO `{self.table}`"
            while not self._stop.is_set() and len(self.killed) < self.times:
                cursor.execute(
                    "SELECT id FROM information_schema.processlist WHERE LEFT(info, %s) = %s",
                    (len(needle), needle),
                )
                for (pid,) in cursor.fetchall():
                    if pid not in self.killed:
                        time.sleep(0.02)  # well inside the statement, not at its start
                        try:
                            cursor.execute(f"KILL {int(pid)}")
                        except Exception:
                            continue  # it ended meanwhile
                        self.killed.append(pid)
                time.sleep(0.002)
        finally:
            conn.close()


BATCH = 60_000  # twelve INSERT statements of 5,000 rows: the kill lands inside the transaction


def test_KILL_during_add_is_retried_whole(tables: TableFactory) -> None:
    table = tables.new_name()
    batch = distinct_traces(BATCH)
    with MySQLStore.make_store(tables.connection_string(table)) as store:
        with Killer(table, times=1) as killer:
            store.add(batch)
        assert len(killer.killed) == 1, "the add finished before it could be killed"
        assert len(table_rows(table)) == len(batch)  # retried on a new connection: all of it
        store.add(distinct_traces(BATCH + 1)[-1:])
        assert len(table_rows(table)) == len(batch) + 1


def test_KILL_during_add_twice_is_a_clear_error_and_nothing_is_stored(tables: TableFactory) -> None:
    table = tables.new_name()
    batch = distinct_traces(BATCH)
    with MySQLStore.make_store(tables.connection_string(table)) as store:
        store.add(batch[:5])
        with Killer(table, times=2) as killer:
            with pytest.raises(TraceStoreError, match="add failed"):
                store.add(batch)
        assert len(killer.killed) == 2
        wait_for_transactions_on(table)
        assert len(table_rows(table)) == 5  # all or nothing: the first five only
        store.add(batch[:10])  # the next add works
        assert len(table_rows(table)) == 10
