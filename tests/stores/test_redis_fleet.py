"""RedisStore under a fleet: many processes at once, clients killed mid-``add`` (SIGKILL, CLIENT KILL)."""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from typing import Any, Callable, Iterator, List, Tuple

import pytest

from reference_stores.redis import RedisStore
from reference_stores.redis.config import key_base
from tests.support.redis import PrefixFactory, admin_client, run_prefixes, server_url, with_params
from tests.support.reliability import concurrent_writers, kill_during_add, missing_writer_traces
from tests.support.workload import distinct_traces, production_workload
from tracestore import CallTraceRow, TraceStoreError

SPEC = "reference_stores.redis:RedisStore"
PROCESSES = 8
TRACES_PER_PROCESS = 2_000
HOT_TRACES = 2_000  # production-like: every process adds mostly the same few hundred traces
HOT_BATCH = 200
BIG_BATCH = 70_000


@pytest.fixture(scope="module")
def prefixes() -> Iterator[PrefixFactory]:
    yield from run_prefixes("fleet")


def stored_rows(prefix: str) -> List[CallTraceRow]:
    """Every row the store of ``prefix`` holds, oldest first."""
    with RedisStore.make_store(with_params(server_url(), prefix=prefix)) as store:
        return list(store.iter_rows())


def row_count(prefix: str) -> int:
    with admin_client() as client:
        return int(client.hlen(key_base(prefix) + b"rows"))


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


def test_S11_eight_processes_write_2000_traces_each(prefixes: PrefixFactory) -> None:
    url = prefixes.connection_string()
    errors = concurrent_writers(SPEC, url, processes=PROCESSES, traces_per_process=TRACES_PER_PROCESS)
    assert errors == [None] * PROCESSES
    assert missing_writer_traces(SPEC, url, PROCESSES, TRACES_PER_PROCESS) == []
    assert row_count(url.rpartition("prefix=")[2]) == PROCESSES * TRACES_PER_PROCESS


def _hot_writer(barrier: Any, errors: Any, url: str, index: int) -> None:
    try:
        traces = production_workload(HOT_TRACES, seed=index)
        store = RedisStore.make_store(url)
        barrier.wait(timeout=120)
        for start in range(0, HOT_TRACES, HOT_BATCH):
            store.add(traces[start : start + HOT_BATCH])
        store.close()
    except BaseException:
        errors.put(f"writer {index}: {traceback.format_exc()}")
        raise


def test_S11_processes_adding_the_same_traces_at_once(prefixes: PrefixFactory) -> None:
    """Overlapping batches add the same rows concurrently: no lost or extra row."""
    prefix = prefixes.new_name()
    reports = run_processes(_hot_writer, [(prefixes.connection_string(prefix), n) for n in range(PROCESSES)])
    assert reports == []
    expected = {
        CallTraceRow.from_trace(t) for n in range(PROCESSES) for t in production_workload(HOT_TRACES, seed=n)
    }
    stored = stored_rows(prefix)
    assert len(stored) == len(set(stored)) == row_count(prefix)
    assert set(stored) == expected


def test_kill_9_during_add_is_all_or_nothing(prefixes: PrefixFactory) -> None:
    """A writer process killed by SIGKILL inside add: its script ran whole or not at all.

    No settling is needed: Redis runs one command at a time, so the checks queue behind
    any script the killed client had sent.
    """
    report = kill_during_add(SPEC, prefixes.connection_string())
    assert report.problems == [], report.problems
    assert len(report.rounds) == 3, report.rounds


class Killer:
    """``CLIENT KILL``s the store's connection (by its client name) while the server reads its add.

    A connection whose query buffer or argument memory is non-zero is in the middle of
    sending a command: the killer waits for that, ``times`` times.
    """

    def __init__(self, client_name: str, times: int) -> None:
        self.client_name = client_name
        self.times = times
        self.killed: List[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Killer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        with admin_client() as client:
            while not self._stop.is_set() and len(self.killed) < self.times:
                for each in client.client_list():
                    if each.get("name") != self.client_name or each["id"] in self.killed:
                        continue
                    if int(each.get("qbuf", 0)) > 0 or int(each.get("argv-mem", 0)) > 0:
                        client.client_kill_filter(_id=each["id"])
                        self.killed.append(each["id"])


def _big_batch_store(prefixes: PrefixFactory) -> Tuple[RedisStore, str, str]:
    prefix = prefixes.new_name()
    name = f"{prefix}_client"
    return RedisStore.make_store(prefixes.connection_string(prefix, client_name=name)), prefix, name


def test_client_kill_during_add_is_retried_whole(prefixes: PrefixFactory) -> None:
    store, prefix, name = _big_batch_store(prefixes)
    batch = distinct_traces(BIG_BATCH)
    with store:
        store.add(batch[:1])  # the script is loaded: the add below is one EVALSHA
        with Killer(name, times=1) as killer:
            store.add(batch)
        assert len(killer.killed) == 1, "the add was sent before it could be killed"
        assert row_count(prefix) == len(batch)  # retried on a new connection: all of it
        assert len(store.filter(batch[0].func.__module__, limit=2**63)) > 0


def test_client_kill_during_add_twice_is_a_clear_error_and_nothing_is_stored(prefixes: PrefixFactory) -> None:
    store, prefix, name = _big_batch_store(prefixes)
    batch = distinct_traces(BIG_BATCH)
    with store:
        with Killer(name, times=2) as killer:
            with pytest.raises(TraceStoreError, match="add failed"):
                store.add(batch)
        assert len(killer.killed) == 2
        assert row_count(prefix) == 0  # all or nothing: the server never ran a half-read script
        store.add(batch[:10])  # the next add works
        assert row_count(prefix) == 10
