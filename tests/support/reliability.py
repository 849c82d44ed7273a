"""A store-agnostic reliability harness: concurrent writer processes, SIGKILL mid-add, corrupt rows.

Every function names the store by an import path ``"package.module:Class"`` (the class's
``make_store(connection_string)`` opens it) and a connection string, so any store that a
child process can open by connection string can be checked::

    errors = concurrent_writers("reference_stores.sqlite:SQLiteStore", conn, processes=4)
    assert errors == [None] * 4
    assert missing_writer_traces("reference_stores.sqlite:SQLiteStore", conn, 4, 2000) == []

    report = kill_during_add("reference_stores.sqlite:SQLiteStore", conn)
    print(report.summary())  # how many kills landed while add wrote (none is a problem)
    assert report.problems == [], report.problems

    # after writing one corrupt row of `module` straight into the storage:
    assert corrupt_row_problems(store, module, good_traces) == []

Child processes are started with the ``spawn`` method (no state inherited from the test
process; a script that calls the harness needs the ``if __name__ == "__main__":`` guard)
and trace the real, importable functions of ``tests.support.workload``.  Every trace they
write is distinct and names its writer, round and batch in an argument name, so the
parent can recompute exactly what must be stored.  Failures are returned as data
(tracebacks, problem strings) for the test to assert on, with messages that say what broke.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import queue
import random
import signal
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from tests.support.workload import TYPES, functions, module_names
from tracestore import CallTrace, CallTraceRow, MalformedRowError

RowTuple = Tuple[Any, ...]
_CTX = multiprocessing.get_context("spawn")
_FILTER_ALL = 10_000_000  # a limit above any test's trace count


# -- stores and traces --------------------------------------------------------------


def open_store(spec: str, connection_string: str) -> Any:
    """``Class.make_store(connection_string)`` for ``spec`` = ``"package.module:Class"``."""
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise ValueError(f"store spec must be 'package.module:Class', not {spec!r}")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls.make_store(connection_string)


def tagged_traces(tag: str, count: int) -> List[CallTrace]:
    """``count`` distinct traces of real workload functions, each naming ``tag`` and its index."""
    funcs = functions()
    return [
        CallTrace(
            funcs[i % len(funcs)],
            {"key": TYPES[i % len(TYPES)], f"{tag}_{i}": int},
            TYPES[i // 7 % len(TYPES)],
        )
        for i in range(count)
    ]


def stored_rows(store: Any, modules: Optional[Iterable[str]] = None) -> Set[RowTuple]:
    """Every stored row of the workload modules (or ``modules``), as 5-tuples."""
    found: Set[RowTuple] = set()
    for module in module_names() if modules is None else modules:
        found.update(map(_thunk_row, store.filter(module, None, _FILTER_ALL)))
    return found


def _thunk_row(thunk: Any) -> RowTuple:
    """The stored fields of a thunk: read from a row-like thunk, else by decoding it."""
    try:
        return (thunk.module, thunk.qualname, thunk.arg_types, thunk.return_type, thunk.yield_type)
    except AttributeError:
        return CallTraceRow.from_trace(thunk.to_trace()).as_tuple()


def _rows(traces: Iterable[CallTrace]) -> Set[RowTuple]:
    return {CallTraceRow.from_trace(t).as_tuple() for t in traces}


# -- (a) concurrent writers ---------------------------------------------------------------


def writer_traces(process: int, traces_per_process: int) -> List[CallTrace]:
    """What writer ``process`` of ``concurrent_writers`` adds."""
    return tagged_traces(f"writer{process}", traces_per_process)


def concurrent_writers(
    spec: str,
    connection_string: str,
    processes: int = 4,
    traces_per_process: int = 2000,
    batch_size: int = 50,
    timeout: float = 600.0,
    race_open: bool = False,
) -> List[Optional[str]]:
    """Start ``processes`` writers at once, each adding its ``writer_traces`` in batches.

    Each writer opens its own store, waits at a barrier so that all start together, then
    calls ``add`` once per batch.  With ``race_open`` they meet at the barrier before
    opening instead, so that they all create (or upgrade) the store at the same moment.
    Returns one entry per writer: None if every call returned, else the traceback of what
    it raised (or why it did not finish).  Check the result with ``missing_writer_traces``.
    """
    barrier = _CTX.Barrier(processes)
    results = _CTX.Queue()
    workers = [
        _CTX.Process(
            target=_writer_main,
            args=(
                spec,
                connection_string,
                index,
                traces_per_process,
                batch_size,
                barrier,
                results,
                race_open,
            ),
            name=f"writer{index}",
        )
        for index in range(processes)
    ]
    for worker in workers:
        worker.start()
    outcome: Dict[int, Optional[str]] = {}
    deadline = time.monotonic() + timeout
    while len(outcome) < processes and time.monotonic() < deadline:
        try:
            index, error = results.get(timeout=max(0.1, min(5.0, deadline - time.monotonic())))
        except queue.Empty:  # check for writers that died without reporting
            if not any(w.is_alive() for w in workers) and results.empty():
                break
            continue
        outcome[index] = error
    for worker in workers:
        worker.join(timeout=max(0.1, deadline - time.monotonic()))
        if worker.is_alive():
            worker.kill()
            worker.join()
    return [
        outcome.get(i, f"writer {i} did not report (exit code {workers[i].exitcode})")
        for i in range(processes)
    ]


def _writer_main(
    spec: str,
    connection_string: str,
    index: int,
    count: int,
    batch_size: int,
    barrier: Any,
    results: Any,
    race_open: bool,
) -> None:
    error: Optional[str] = None
    try:
        traces = writer_traces(index, count)
        if race_open:
            barrier.wait(timeout=120)
        store = open_store(spec, connection_string)
        if not race_open:
            barrier.wait(timeout=120)
        for start in range(0, count, batch_size):
            store.add(traces[start : start + batch_size])
    except BaseException:
        error = traceback.format_exc()
    results.put((index, error))


def missing_writer_traces(
    spec: str, connection_string: str, processes: int, traces_per_process: int
) -> List[RowTuple]:
    """The rows that ``concurrent_writers`` should have stored but a fresh store does not return."""
    store = open_store(spec, connection_string)
    expected = _rows(t for p in range(processes) for t in writer_traces(p, traces_per_process))
    return sorted(expected - stored_rows(store), key=repr)


# -- (b) SIGKILL in the middle of add -------------------------------------------------------


@dataclass
class KillRound:
    """One child killed during ``add``: what it had finished, and what the store holds."""

    phase: str  # "after_input": killed while add writes; "mid_input": while add reads its iterable
    completed_batches: int  # adds that returned before the kill
    interrupted_present: Optional[bool]  # the interrupted batch: all there, none there, None if mixed
    mid_write: bool = False  # killed after add had read all its input, before it reported done


@dataclass
class KillReport:
    rounds: List[KillRound] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)

    @property
    def mid_write_kills(self) -> int:
        """The kills that landed inside ``add`` after it had read its input: while it wrote."""
        return sum(1 for r in self.rounds if r.mid_write)

    def summary(self) -> str:
        writing = sum(1 for r in self.rounds if r.phase == "after_input")
        return (
            f"{self.mid_write_kills} of {writing} SIGKILLs aimed at a write landed in the middle of one "
            f"({len(self.rounds)} kills in all)"
        )


def batch_traces(round_index: int, batch: int, batch_size: int) -> List[CallTrace]:
    """Batch ``batch`` of kill round ``round_index``."""
    return tagged_traces(f"kill{round_index}b{batch}", batch_size)


def kill_during_add(
    spec: str,
    connection_string: str,
    phases: Sequence[str] = ("after_input", "after_input", "mid_input"),
    batch_size: int = 5000,
    seed: int = 0,
    timeout: float = 300.0,
    settle: Optional[Callable[[], None]] = None,
) -> KillReport:
    """Kill a writer with SIGKILL inside ``add``, once per entry of ``phases``, and check the store.

    The child adds batches of ``batch_size`` distinct traces, one ``add`` per batch, and
    reports each batch whose ``add`` returned.  Its iterable tells the parent when ``add``
    has read every trace ("after_input": the kill then lands after a random delay within
    the time one add took to write, i.e. almost always while the store writes) or blocks
    half-way ("mid_input": the store is killed while it still reads its input).

    Afterwards the store must open, hold every batch whose ``add`` returned, hold all or
    none of the interrupted batch, hold nothing of later batches, and accept a new add.
    A kill lands in the middle of a write when the child had said "consumed" for the batch
    and never said "done" for it; the report counts those (``mid_write_kills``), and it is a
    problem when an "after_input" phase is asked for and no kill landed there.
    ``settle``, if given, runs after each kill and before those checks: a server-backed
    store uses it to wait until the server has finished (committed or rolled back) the
    statement that the killed client left running.
    """
    rng = random.Random(seed)
    report = KillReport()
    for round_index, phase in enumerate(phases):
        if phase not in ("after_input", "mid_input"):
            raise ValueError(f"unknown phase {phase!r}")
        try:
            completed, mid_write = _run_and_kill(
                spec, connection_string, round_index, phase, batch_size, rng, timeout
            )
        except _HarnessError as exc:
            report.problems.append(f"round {round_index} ({phase}): {exc}")
            continue
        if settle is not None:
            settle()
        checked = _check_round(
            spec, connection_string, round_index, phase, completed, batch_size, report.problems
        )
        checked.mid_write = mid_write
        report.rounds.append(checked)
    if "after_input" in phases and not report.mid_write_kills:
        report.problems.append(
            f"no SIGKILL landed in the middle of a write ({report.summary()}): all or nothing was not shown"
        )
    return report


class _HarnessError(Exception):
    pass


def _run_and_kill(
    spec: str,
    connection_string: str,
    round_index: int,
    phase: str,
    batch_size: int,
    rng: random.Random,
    timeout: float,
) -> Tuple[int, bool]:
    """Run a writer and kill it inside an add: ``(adds completed, whether the kill landed mid-write)``."""
    parent_end, child_end = _CTX.Pipe()
    child = _CTX.Process(
        target=_killable_main,
        args=(spec, connection_string, round_index, phase, batch_size, child_end),
        name=f"killable{round_index}",
    )
    child.start()
    child_end.close()
    completed = 0
    killed_batch = -1
    write_seconds = 0.05
    consumed_at = 0.0
    deadline = time.monotonic() + timeout
    try:
        while True:
            message = _receive(parent_end, child, deadline)
            kind = message[0]
            if kind == "error":
                raise _HarnessError(f"the writer failed before it was killed:\n{message[1]}")
            if kind == "done":
                completed = message[1] + 1
                write_seconds = max(0.001, time.monotonic() - consumed_at)
            elif kind == "consumed" and completed >= 1:
                # mid_input: the child now blocks inside add's iteration; else add is writing (the
                # seeded delay spreads the kills over the first half of the time an add takes).
                time.sleep(0 if phase == "mid_input" else rng.uniform(0, write_seconds / 2))
                os.kill(child.pid or 0, signal.SIGKILL)
                killed_batch = message[1]
                break
            elif kind == "consumed":
                consumed_at = time.monotonic()
        # Reports sent before the kill landed still count as completed adds.
        child.join(timeout=30)
        completed = max(completed, _last_done(parent_end))
    except (EOFError, OSError) as exc:
        raise _HarnessError(f"lost the writer ({exc!r}, exit code {child.exitcode})") from exc
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        parent_end.close()
    if child.exitcode != -signal.SIGKILL:
        raise _HarnessError(f"the writer exited with {child.exitcode}, not by SIGKILL")
    # "done" for the batch never came: the kill landed after add had read it all, before it returned.
    return completed, phase == "after_input" and completed <= killed_batch


def _last_done(end: Connection) -> int:
    """Batches reported done after the kill was decided; the pipe then ends (EOF)."""
    completed = 0
    while end.poll():
        try:
            message = end.recv()
        except EOFError:
            break
        if message[0] == "done":
            completed = message[1] + 1
    return completed


def _receive(end: Connection, child: Any, deadline: float) -> Tuple[Any, ...]:
    while not end.poll(0.05):
        if time.monotonic() > deadline:
            raise _HarnessError("timed out waiting for the writer")
        if not child.is_alive() and not end.poll():
            raise _HarnessError(f"the writer died by itself (exit code {child.exitcode})")
    message: Tuple[Any, ...] = end.recv()
    return message


def _killable_main(
    spec: str, connection_string: str, round_index: int, phase: str, batch_size: int, end: Connection
) -> None:
    try:
        store = open_store(spec, connection_string)
        for batch in range(1_000_000):
            traces = batch_traces(round_index, batch, batch_size)
            store.add(_signalling(traces, end, batch, block_midway=phase == "mid_input" and batch >= 1))
            end.send(("done", batch))
    except BaseException:
        end.send(("error", traceback.format_exc()))


def _signalling(
    traces: List[CallTrace], end: Connection, batch: int, block_midway: bool
) -> Iterator[CallTrace]:
    """Yield ``traces``; say "consumed" when add has read them all (or block half-way)."""
    half = len(traces) // 2
    for index, trace in enumerate(traces):
        if block_midway and index == half:
            end.send(("consumed", batch))
            while True:  # wait here for SIGKILL
                time.sleep(1)
        yield trace
    end.send(("consumed", batch))


def _check_round(
    spec: str,
    connection_string: str,
    round_index: int,
    phase: str,
    completed: int,
    batch_size: int,
    problems: List[str],
) -> KillRound:
    where = f"round {round_index} ({phase}, {completed} adds completed)"
    try:
        store = open_store(spec, connection_string)
        stored = stored_rows(store)
    except Exception:
        problems.append(
            f"{where}: the store does not open or answer after the kill:\n{traceback.format_exc()}"
        )
        return KillRound(phase, completed, None)
    for batch in range(completed):
        missing = _rows(batch_traces(round_index, batch, batch_size)) - stored
        if missing:
            problems.append(f"{where}: completed batch {batch} lost {len(missing)} of {batch_size} traces")
    interrupted = _rows(batch_traces(round_index, completed, batch_size))
    present = len(interrupted & stored)
    state: Optional[bool] = {0: False, len(interrupted): True}.get(present)
    if state is None:
        problems.append(f"{where}: the interrupted batch is partly stored ({present} of {len(interrupted)})")
    later = _rows(batch_traces(round_index, completed + 1, batch_size)) & stored
    if later:
        problems.append(f"{where}: {len(later)} traces of a batch never added are stored")
    probe = tagged_traces(f"probe{round_index}", 1)
    try:
        store.add(probe)
        if not _rows(probe) <= stored_rows(store):
            problems.append(f"{where}: an add after the kill was not stored")
    except Exception:
        problems.append(f"{where}: an add after the kill failed:\n{traceback.format_exc()}")
    return KillRound(phase, completed, state)


# -- (c) a corrupt row ------------------------------------------------------------------------


def corrupt_row_problems(
    store: Any, module: str, good: Sequence[CallTrace], corrupt: int = 1, limit: int = _FILTER_ALL
) -> List[str]:
    """Check ``filter(module)`` after ``corrupt`` rows of ``module`` were damaged in storage.

    ``filter`` must answer; exactly ``corrupt`` thunks raise ``tracestore.MalformedRowError``
    from ``to_trace``; every other thunk decodes, and together they are the ``good`` traces.
    """
    problems: List[str] = []
    try:
        thunks = store.filter(module, None, limit)
    except Exception:
        return [f"filter raised over a corrupt row:\n{traceback.format_exc()}"]
    malformed = 0
    decoded: List[Any] = []
    for thunk in thunks:
        try:
            decoded.append(thunk.to_trace())
        except MalformedRowError:
            malformed += 1
        except Exception as exc:
            problems.append(f"to_trace raised {type(exc).__name__}, not MalformedRowError: {exc}")
    if malformed != corrupt:
        problems.append(f"{malformed} thunks raised MalformedRowError; expected {corrupt}")
    wanted = _rows(good)
    got = _rows(decoded)
    if got != wanted:
        problems.append(
            f"the decodable traces differ: {len(wanted - got)} missing, {len(got - wanted)} unexpected"
        )
    return problems
