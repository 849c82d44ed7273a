"""Concurrent writers for S11: threads sharing one store, and processes opening it by name.

Run as ``python -m conformance.checks.writers`` this module is one writer process:
it imports the store class, waits for the go signal, opens the store with
``make_store(connection_string)`` and adds its traces in small batches.
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
from typing import Any, List, Sequence

from conformance.sample_functions import module_function
from tracestore import CallTrace

THREADS, TRACES_PER_THREAD = 4, 50
PROCESSES, TRACES_PER_PROCESS = 3, 100
BATCH = 5
PROBE = "probe"
START_TIMEOUT = 120.0


def writer_traces(writer: str, count: int) -> List[CallTrace]:
    """``count`` traces no other writer adds (argument names carry the writer's name)."""
    return [CallTrace(module_function, {f"{writer}_{i}": int}, int) for i in range(count)]


def add_in_batches(store: Any, traces: Sequence[CallTrace]) -> None:
    for start in range(0, len(traces), BATCH):
        store.add(traces[start : start + BATCH])


def load_class(module: str, qualname: str) -> Any:
    """The object at ``qualname`` in the module ``module`` (imported)."""
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def probe_main(argv: Sequence[str]) -> int:
    """``probe MODULE QUALNAME CONNECTION_STRING``: print how many traces of the probe writer it sees."""
    module, qualname, connection_string = argv
    store = load_class(module, qualname).make_store(connection_string)
    try:
        found = store.filter(module_function.__module__, None, 100_000)
        print(sum(1 for thunk in found if f"{PROBE}_0" in thunk.to_trace().arg_types))
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()
    return 0


def sees_other_processes(store: Any, store_class: type, connection_string: str) -> bool:
    """Add a probe trace to ``store`` and ask another process, opening ``connection_string``, for it."""
    store.add(writer_traces(PROBE, 1))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    args = [store_class.__module__, store_class.__qualname__, connection_string]
    command = [sys.executable, "-m", __name__, "probe", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=START_TIMEOUT)
    if done.returncode != 0:
        raise AssertionError(
            f"S11: a process could not open the store by connection string: {done.stderr[-2000:]}"
        )
    return done.stdout.strip() not in ("", "0")


def writer_main(argv: Sequence[str]) -> int:
    """One writer process: ``MODULE QUALNAME CONNECTION_STRING WRITER COUNT SIGNAL_DIR``."""
    if argv and argv[0] == "probe":
        return probe_main(argv[1:])
    module, qualname, connection_string, writer, count, signals = argv
    store_class = load_class(module, qualname)
    Path(signals, f"ready-{writer}").touch()
    deadline = time.monotonic() + START_TIMEOUT
    while not Path(signals, "go").exists():
        if time.monotonic() > deadline:
            print(f"writer {writer}: no go signal within {START_TIMEOUT}s", file=sys.stderr)
            return 2
        time.sleep(0.005)
    store = store_class.make_store(connection_string)
    try:
        add_in_batches(store, writer_traces(writer, int(count)))
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()
    return 0


def run_threads(store: Any) -> List[str]:
    """Add every thread's traces at once to the shared ``store``; returns the errors raised."""
    errors: List[str] = []
    barrier = threading.Barrier(THREADS)

    def work(writer: str) -> None:
        try:
            barrier.wait(timeout=START_TIMEOUT)
            add_in_batches(store, writer_traces(writer, TRACES_PER_THREAD))
        except Exception:
            errors.append(f"thread {writer}: {traceback.format_exc()}")

    threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def run_processes(store_class: type, connection_string: str, signals: Path) -> List[str]:
    """Start the writer processes, release them together, and return their failures."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    procs = []
    for n in range(PROCESSES):
        args = [store_class.__module__, store_class.__qualname__, connection_string, f"p{n}"]
        command = [sys.executable, "-m", __name__, *args, str(TRACES_PER_PROCESS), str(signals)]
        procs.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    deadline = time.monotonic() + START_TIMEOUT
    while len(list(signals.glob("ready-*"))) < PROCESSES and time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            break
        time.sleep(0.01)
    (signals / "go").touch()
    failures = []
    for n, proc in enumerate(procs):
        try:
            out, err = proc.communicate(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            failures.append(f"process p{n} timed out")
        if proc.returncode != 0:
            text = (err or out).decode(errors="replace")
            failures.append(f"process p{n} exited with {proc.returncode}: {text[-2000:]}")
    return failures


if __name__ == "__main__":
    sys.exit(writer_main(sys.argv[1:]))
