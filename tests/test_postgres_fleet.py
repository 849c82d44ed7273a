"""PostgresStore under a fleet: many processes at once, and connections killed mid-``add``."""

from __future__ import annotations

import multiprocessing
import threading
import time
import traceback
from typing import Any, Callable, Iterator, List, Tuple

import pytest

from reference_stores.postgres import PostgresStore
from tests.support.postgres import SchemaFactory, admin_connect, require_server, with_params
from tests.support.workload import distinct_traces, production_workload
from tracestore import CallTraceRow, TraceStoreError

PROCESSES = 8
TRACES_PER_PROCESS = 2_000
BATCH = 100
SHARED_PER_BATCH = 20  # hot traces every process adds too: concurrent upserts of the same rows


@pytest.fixture(scope="module")
def schemas() -> Iterator[SchemaFactory]:
    require_server()
    factory = SchemaFactory("fleet")
    yield factory
    factory.drop_all()


def table_rows(schema: str) -> List[Tuple[Any, ...]]:
    with admin_connect() as conn:
        return conn.execute(
            f'SELECT module, qualname, arg_types, return_type, yield_type FROM "{schema}".call_traces'
        ).fetchall()


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


def _writer(barrier: Any, errors: Any, url: str, index: int) -> None:
    try:
        own = distinct_traces(PROCESSES * TRACES_PER_PROCESS)[index * TRACES_PER_PROCESS :][
            :TRACES_PER_PROCESS
        ]
        shared = production_workload(TRACES_PER_PROCESS // BATCH * SHARED_PER_BATCH, seed=index)
        store = PostgresStore.make_store(url)
        barrier.wait(timeout=120)
        for start in range(0, TRACES_PER_PROCESS, BATCH):
            hot = shared[start // BATCH * SHARED_PER_BATCH :][:SHARED_PER_BATCH]
            store.add([*own[start : start + BATCH], *hot])
        store.close()
    except BaseException:
        errors.put(f"writer {index}: {traceback.format_exc()}")
        raise


def test_S11_eight_processes_write_2000_traces_each(schemas: SchemaFactory) -> None:
    schema = schemas.new_name()
    url = schemas.connection_string(schema)
    PostgresStore.make_store(url).close()
    reports = run_processes(_writer, [(url, n) for n in range(PROCESSES)])
    assert reports == []
    stored = {CallTraceRow(*row) for row in table_rows(schema)}
    own = {CallTraceRow.from_trace(t) for t in distinct_traces(PROCESSES * TRACES_PER_PROCESS)}
    shared = {
        CallTraceRow.from_trace(t)
        for n in range(PROCESSES)
        for t in production_workload(TRACES_PER_PROCESS // BATCH * SHARED_PER_BATCH, seed=n)
    }
    assert len(own) == PROCESSES * TRACES_PER_PROCESS
    assert stored == own | shared


def _creator(barrier: Any, errors: Any, url: str, index: int) -> None:
    try:
        barrier.wait(timeout=120)
        with PostgresStore.make_store(url) as store:
            store.add(distinct_traces(PROCESSES)[index : index + 1])
    except BaseException:
        errors.put(f"creator {index}: {traceback.format_exc()}")
        raise


def test_S11_processes_create_the_same_new_schema_at_once(schemas: SchemaFactory) -> None:
    for _ in range(3):
        schema = schemas.new_name()
        reports = run_processes(_creator, [(schemas.connection_string(schema), n) for n in range(PROCESSES)])
        assert reports == []
        assert len(table_rows(schema)) == PROCESSES


class Killer:
    """Terminates the backends of one application name while they run the upsert, ``times`` times."""

    def __init__(self, application_name: str, times: int) -> None:
        self.application_name = application_name
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
        with admin_connect() as conn:
            while not self._stop.is_set() and len(self.killed) < self.times:
                found = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND state = 'active'"
                    " AND strpos(query, 'ON CONFLICT (trace_key)') > 0",
                    (self.application_name,),
                ).fetchall()
                for (pid,) in found:
                    if pid not in self.killed:
                        time.sleep(0.05)  # well inside the statement, not at its start
                        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
                        self.killed.append(pid)
                time.sleep(0.005)


def _big_batch_store(schemas: SchemaFactory, label: str) -> Tuple[PostgresStore, str, str]:
    schema = schemas.new_name()
    application_name = f"{schema}_{label}"
    url = with_params(schemas.connection_string(schema), application_name=application_name)
    return PostgresStore.make_store(url), schema, application_name


def test_kill_during_add_is_retried_whole(schemas: SchemaFactory) -> None:
    store, schema, application_name = _big_batch_store(schemas, "once")
    batch = distinct_traces(60_000)
    with store, Killer(application_name, times=1) as killer:
        store.add(batch)
        assert len(killer.killed) == 1, "the upsert finished before it could be killed"
        assert len(table_rows(schema)) == len(batch)  # retried after reconnecting: all of it
        store.add(distinct_traces(60_001)[-1:])
        assert len(table_rows(schema)) == len(batch) + 1


def test_kill_during_add_twice_is_a_clear_error_and_nothing_is_stored(schemas: SchemaFactory) -> None:
    store, schema, application_name = _big_batch_store(schemas, "twice")
    batch = distinct_traces(60_000)
    with store:
        with Killer(application_name, times=2) as killer:
            with pytest.raises(TraceStoreError, match="add failed"):
                store.add(batch)
        assert len(killer.killed) == 2
        assert table_rows(schema) == []  # all or nothing
        store.add(batch[:10])  # the next add works
        assert len(table_rows(schema)) == 10
