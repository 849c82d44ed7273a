"""PostgresStore under a fleet: many processes at once, and connections killed mid-``add``."""

from __future__ import annotations

import multiprocessing
import threading
import time
import traceback
from typing import Any, Callable, Iterator, List, Tuple

import pytest

from reference_stores.postgres import PostgresStore
from tests.support.postgres import SchemaFactory, admin_connect, run_schemas, with_params
from tests.support.reliability import concurrent_writers, kill_during_add, missing_writer_traces
from tests.support.workload import distinct_traces, production_workload
from tracestore import CallTraceRow, TraceStoreError

SPEC = "reference_stores.postgres:PostgresStore"
PROCESSES = 8
TRACES_PER_PROCESS = 2_000
HOT_TRACES = 2_000  # production-like: every process adds mostly the same few hundred traces
HOT_BATCH = 200


@pytest.fixture(scope="module")
def schemas() -> Iterator[SchemaFactory]:
    yield from run_schemas("fleet")


def table_rows(schema: str, table: str = "call_traces") -> List[Tuple[Any, ...]]:
    with admin_connect() as conn:
        return conn.execute(
            f'SELECT module, qualname, arg_types, return_type, yield_type FROM "{schema}"."{table}"'
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


def test_S11_eight_processes_write_2000_traces_each(schemas: SchemaFactory) -> None:
    url = schemas.connection_string()
    PostgresStore.make_store(url).close()
    errors = concurrent_writers(SPEC, url, processes=PROCESSES, traces_per_process=TRACES_PER_PROCESS)
    assert errors == [None] * PROCESSES
    assert missing_writer_traces(SPEC, url, PROCESSES, TRACES_PER_PROCESS) == []


def _hot_writer(barrier: Any, errors: Any, url: str, index: int) -> None:
    try:
        traces = production_workload(HOT_TRACES, seed=index)
        store = PostgresStore.make_store(url)
        barrier.wait(timeout=120)
        for start in range(0, HOT_TRACES, HOT_BATCH):
            store.add(traces[start : start + HOT_BATCH])
        store.close()
    except BaseException:
        errors.put(f"writer {index}: {traceback.format_exc()}")
        raise


def test_S11_processes_adding_the_same_traces_at_once(schemas: SchemaFactory) -> None:
    """Overlapping batches upsert the same rows concurrently: no deadlock, no lost or extra row."""
    schema = schemas.new_name()
    url = schemas.connection_string(schema)
    PostgresStore.make_store(url).close()
    reports = run_processes(_hot_writer, [(url, n) for n in range(PROCESSES)])
    assert reports == []
    expected = {
        CallTraceRow.from_trace(t) for n in range(PROCESSES) for t in production_workload(HOT_TRACES, seed=n)
    }
    stored = [CallTraceRow(*row) for row in table_rows(schema)]
    assert len(stored) == len(set(stored))
    assert set(stored) == expected


def wait_for_statements_to_end(application_name: str, timeout: float = 60) -> None:
    """Wait until no backend of ``application_name`` is inside a statement.

    A client killed mid-``add`` leaves its statement running on the server, which then
    commits or rolls it back as a whole; only after that is "all or nothing" observable
    by a reader who checks module by module.
    """
    deadline = time.monotonic() + timeout
    with admin_connect() as conn:
        while time.monotonic() < deadline:
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND state <> 'idle'",
                (application_name,),
            ).fetchone()
            if busy == (0,):
                return
            time.sleep(0.02)
    raise AssertionError(f"backends of {application_name} still busy after {timeout} s")


def test_kill_9_during_add_is_all_or_nothing(schemas: SchemaFactory) -> None:
    """A writer process killed by SIGKILL inside add: its statement commits or rolls back whole."""
    schema = schemas.new_name()
    application_name = f"{schema}_kill9"
    url = with_params(schemas.connection_string(schema), application_name=application_name)
    # The harness checks right after the kill; a server store must first let the orphaned
    # statement finish.
    report = kill_during_add(SPEC, url, settle=lambda: wait_for_statements_to_end(application_name))
    print(report.summary())
    assert report.problems == [], report.problems
    assert len(report.rounds) == 3, report.rounds


def _creator(barrier: Any, errors: Any, urls: List[str], index: int) -> None:
    try:
        for url in urls:  # one race per URL: every process makes the store at the same moment
            barrier.wait(timeout=120)
            with PostgresStore.make_store(url) as store:
                store.add(distinct_traces(PROCESSES)[index : index + 1])
    except BaseException:
        errors.put(f"creator {index}: {traceback.format_exc()}")
        raise


def test_S11_processes_create_the_same_new_schema_at_once(schemas: SchemaFactory) -> None:
    names = [schemas.new_name() for _ in range(5)]
    urls = [schemas.connection_string(name) for name in names]
    urls.append(
        with_params(schemas.connection_string(names[0]), tracestore_table="second")
    )  # existing schema
    reports = run_processes(_creator, [(urls, n) for n in range(PROCESSES)])
    assert reports == []
    for name in names:
        assert len(table_rows(name)) == PROCESSES
    assert len(table_rows(names[0], "second")) == PROCESSES


_BLOCKED_UPSERTS = (
    "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND %s = ANY(pg_blocking_pids(pid))"
    " AND strpos(query, 'ON CONFLICT (trace_key)') > 0"
)


class Killer:
    """Terminates the backends of one application name inside the upsert, ``times`` times.

    While it is active it holds ``LOCK TABLE ... IN SHARE MODE`` on the store's table, which
    lets reads through but makes every upsert wait for the lock: the killer terminates a backend
    only once it sees it blocked by the killer's own connection (``pg_blocking_pids``), so each
    kill lands inside the statement however fast the server is. After ``times`` kills it
    releases the lock, and a retried upsert goes through.
    """

    def __init__(self, schema: str, application_name: str, times: int) -> None:
        self.schema = schema
        self.application_name = application_name
        self.times = times
        self.killed: List[int] = []
        self._locked = threading.Event()
        self._stop = threading.Event()
        self._errors: List[str] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Killer:
        self._thread.start()
        if not self._locked.wait(timeout=60):
            self._stop.set()
            raise AssertionError(f"the killer could not lock the table: {self._errors}")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "the killer thread did not stop"
        assert not self._errors, self._errors

    def _run(self) -> None:
        try:
            with admin_connect() as locker, admin_connect() as conn:
                found = locker.execute("SELECT pg_backend_pid()").fetchone()
                holder = found[0] if found else None
                with locker.transaction(force_rollback=True):  # the rollback releases the lock
                    locker.execute(f'LOCK TABLE "{self.schema}".call_traces IN SHARE MODE')
                    self._locked.set()
                    while not self._stop.is_set() and len(self.killed) < self.times:
                        for (pid,) in conn.execute(
                            _BLOCKED_UPSERTS, (self.application_name, holder)
                        ).fetchall():
                            if pid not in self.killed:
                                conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
                                self.killed.append(pid)
                        self._stop.wait(0.01)  # poll; the upsert cannot finish while the lock is held
        except Exception:
            self._errors.append(traceback.format_exc())
            self._locked.set()


def _big_batch_store(schemas: SchemaFactory, label: str) -> Tuple[PostgresStore, str, str]:
    schema = schemas.new_name()
    application_name = f"{schema}_{label}"
    url = with_params(schemas.connection_string(schema), application_name=application_name)
    return PostgresStore.make_store(url), schema, application_name


def test_kill_during_add_is_retried_whole(schemas: SchemaFactory) -> None:
    store, schema, application_name = _big_batch_store(schemas, "once")
    batch = distinct_traces(60_000)
    with store, Killer(schema, application_name, times=1) as killer:
        store.add(batch)
        assert len(killer.killed) == 1, "the upsert finished before it could be killed"
        assert len(table_rows(schema)) == len(batch)  # retried after reconnecting: all of it
        store.add(distinct_traces(60_001)[-1:])
        assert len(table_rows(schema)) == len(batch) + 1


def test_kill_during_add_twice_is_a_clear_error_and_nothing_is_stored(schemas: SchemaFactory) -> None:
    store, schema, application_name = _big_batch_store(schemas, "twice")
    batch = distinct_traces(60_000)
    with store:
        with Killer(schema, application_name, times=2) as killer:
            with pytest.raises(TraceStoreError, match="add failed"):
                store.add(batch)
        assert len(killer.killed) == 2
        assert table_rows(schema) == []  # all or nothing
        store.add(batch[:10])  # the next add works
        assert len(table_rows(schema)) == 10
