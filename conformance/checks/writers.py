"""Concurrent writers for S11: threads sharing one store, and processes opening it by name.

Run as ``python -m conformance.checks.writers`` this module is one writer process:
it imports the store class, waits for the go signal, opens the store with
``make_store(connection_string)`` and adds its traces in small batches. Every store call,
in threads and processes, runs under the kit's deadline (:mod:`conformance.deadline`).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Dict, List, Sequence

from conformance.deadline import StoreCallTimeout, call_with_deadline, unwrap, wait_for_threads
from conformance.sample_functions import module_function
from tracestore import CallTrace

THREADS, TRACES_PER_THREAD = 4, 50
PROCESSES, TRACES_PER_PROCESS = 3, 100
BATCH = 5
PROBE = "probe"
START_TIMEOUT = 120.0
"""Seconds a writer process may take to start (import Python and the store class)."""
STUCK_EXIT = 3


def writer_traces(writer: str, count: int) -> List[CallTrace]:
    """``count`` traces no other writer adds (argument names carry the writer's name)."""
    return [CallTrace(module_function, {f"{writer}_{i}": int}, int) for i in range(count)]


def add_in_batches(store: Any, traces: Sequence[CallTrace]) -> None:
    for start in range(0, len(traces), BATCH):
        store.add(traces[start : start + BATCH])


def _process_budget(timeout: float, calls: int) -> float:
    """How long the parent waits for a writer process that makes ``calls`` store calls, each of
    which the process itself bounds by ``timeout``: their sum, plus time to start."""
    return START_TIMEOUT + timeout * (calls + 2)


def _in_process(what: str, timeout: float, function: Any, *args: Any) -> Any:
    """A store call in a writer process under the deadline; an overrun ends the process at once
    (its stuck thread could keep it alive), saying which call overran."""
    try:
        return call_with_deadline(what, timeout, function, *args)
    except StoreCallTimeout as error:
        print(f"{error}", file=sys.stderr, flush=True)
        os._exit(STUCK_EXIT)


def load_class(module: str, qualname: str) -> Any:
    """The object at ``qualname`` in the module ``module`` (imported)."""
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def _close(store: Any) -> None:
    close = getattr(store, "close", None)
    if callable(close):
        close()


def _seen(store: Any) -> int:
    found = store.filter(module_function.__module__, None, 100_000)
    return sum(1 for thunk in found if f"{PROBE}_0" in thunk.to_trace().arg_types)


def probe_main(argv: Sequence[str]) -> int:
    """``probe MODULE QUALNAME CONNECTION_STRING TIMEOUT``: print how many traces of the probe
    writer it sees."""
    module, qualname, connection_string, timeout_text = argv
    timeout = float(timeout_text)
    store = _in_process("make_store", timeout, load_class(module, qualname).make_store, connection_string)
    try:
        print(_in_process("filter", timeout, _seen, store))
    finally:
        _in_process("close", timeout, _close, store)
    return 0


def sees_other_processes(store: Any, store_class: type, connection_string: str, timeout: float) -> bool:
    """Add a probe trace to ``store`` and ask another process, opening ``connection_string``, for it."""
    store.add(writer_traces(PROBE, 1))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    args = [store_class.__module__, store_class.__qualname__, connection_string, str(timeout)]
    command = [sys.executable, "-m", __name__, "probe", *args]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=_process_budget(timeout, 3)
        )
    except subprocess.TimeoutExpired as expired:  # subprocess.run has killed it
        raise StoreCallTimeout(f"the probe process did not finish within {expired.timeout:g} s") from None
    if done.returncode != 0:
        raise AssertionError(
            f"S11: a process could not open the store by connection string: {done.stderr[-2000:]}"
        )
    return done.stdout.strip() not in ("", "0")


def writer_main(argv: Sequence[str]) -> int:
    """One writer process: ``MODULE QUALNAME CONNECTION_STRING WRITER COUNT SIGNAL_DIR TIMEOUT``."""
    if argv and argv[0] == "probe":
        return probe_main(argv[1:])
    module, qualname, connection_string, writer, count, signals, timeout_text = argv
    timeout = float(timeout_text)
    store_class = load_class(module, qualname)
    Path(signals, f"ready-{writer}").touch()
    deadline = time.monotonic() + START_TIMEOUT
    while not Path(signals, "go").exists():
        if time.monotonic() > deadline:
            print(f"writer {writer}: no go signal within {START_TIMEOUT}s", file=sys.stderr)
            return 2
        time.sleep(0.005)
    store = _in_process("make_store", timeout, store_class.make_store, connection_string)
    try:
        traces = writer_traces(writer, int(count))
        for start in range(0, len(traces), BATCH):
            _in_process("add", timeout, store.add, traces[start : start + BATCH])
    finally:
        _in_process("close", timeout, _close, store)
    return 0


def run_threads(store: Any, timeout: float) -> List[str]:
    """Add every thread's traces at once to the shared ``store``; returns the errors raised,
    and names each thread whose ``add`` did not return within ``timeout`` seconds."""
    store = unwrap(store)  # the threads call the store itself, at once, not through the kit's worker
    errors: List[str] = []
    barrier = threading.Barrier(THREADS)
    started: Dict[str, float] = {}

    def work(writer: str) -> None:
        try:
            barrier.wait(timeout=START_TIMEOUT)
            traces = writer_traces(writer, TRACES_PER_THREAD)
            for start in range(0, len(traces), BATCH):
                started[writer] = time.monotonic()
                store.add(traces[start : start + BATCH])
                del started[writer]
        except Exception:
            errors.append(f"thread {writer}: {traceback.format_exc()}")

    names = [f"t{n}" for n in range(THREADS)]
    threads = [(name, threading.Thread(target=work, args=(name,), daemon=True)) for name in names]
    for _, thread in threads:
        thread.start()
    stuck = wait_for_threads(threads, started, timeout)
    stuck_errors = [f"thread {name}: add did not return within {timeout:g} s" for name in stuck]
    return stuck_errors + errors


def run_processes(store_class: type, connection_string: str, signals: Path, timeout: float) -> List[str]:
    """Start the writer processes, release them together, and return their failures.

    Each process bounds its own store calls by ``timeout``; one that still has not finished
    in its budget is killed, as are all of them if anything goes wrong here.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    procs: List[subprocess.Popen[bytes]] = []
    try:
        for n in range(PROCESSES):
            args = [store_class.__module__, store_class.__qualname__, connection_string, f"p{n}"]
            command = [
                sys.executable,
                "-m",
                __name__,
                *args,
                str(TRACES_PER_PROCESS),
                str(signals),
                str(timeout),
            ]
            procs.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        deadline = time.monotonic() + START_TIMEOUT
        while len(list(signals.glob("ready-*"))) < PROCESSES and time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                break
            time.sleep(0.01)
        (signals / "go").touch()
        budget = _process_budget(timeout, TRACES_PER_PROCESS // BATCH + 2)
        finish_by = time.monotonic() + budget
        failures = []
        for n, proc in enumerate(procs):
            try:
                out, err = proc.communicate(timeout=max(0.0, finish_by - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                failures.append(f"process p{n} did not finish within {budget:g} s and was killed")
                continue
            text = (err or out).decode(errors="replace").strip()
            if proc.returncode == STUCK_EXIT:
                failures.append(f"process p{n}: {text.splitlines()[-1] if text else 'a store call overran'}")
            elif proc.returncode != 0:
                failures.append(f"process p{n} exited with {proc.returncode}: {text[-2000:]}")
        return failures
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


if __name__ == "__main__":
    sys.exit(writer_main(sys.argv[1:]))
