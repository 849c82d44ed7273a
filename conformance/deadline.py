"""Deadlines on every call the kit makes into a store: a worker thread per store, and a proxy that uses it."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

__all__ = [
    "DEFAULT_TIMEOUT",
    "CallRunner",
    "StoreCallTimeout",
    "StoreProxy",
    "ThunkProxy",
    "abandoned_threads",
    "call_with_deadline",
    "unwrap",
]

DEFAULT_TIMEOUT = 30.0
"""Seconds a single call into a store may take (``--timeout``, ``call_timeout``)."""

T = TypeVar("T")

_ABANDONED: List[threading.Thread] = []


class StoreCallTimeout(BaseException):
    """A call into the store did not return in time ("add did not return within 30 s").

    A ``BaseException``, like pytest's own outcomes: a check's ``except Exception`` cannot
    take it for the store's answer, and Hypothesis stops at once instead of shrinking
    (every further example would wait out the deadline again). It fails the test.
    """


def abandoned_threads() -> List[threading.Thread]:
    """Worker threads left stuck in a store call that overran (still alive)."""
    return [thread for thread in _ABANDONED if thread.is_alive()]


def describe_seconds(seconds: float) -> str:
    return f"{seconds:g} s"


class CallRunner:
    """Runs calls one at a time on one daemon worker thread, each within ``timeout`` seconds.

    One thread for every call keeps stores that are bound to the thread that made them (a
    ``sqlite3`` connection by default) working. After an overrun the stuck thread is
    abandoned and the next call gets a new one.
    """

    def __init__(self, timeout: float, name: str = "store") -> None:
        self.timeout = timeout
        self.name = name
        self.overran: List[str] = []
        self._queue: Optional[queue.SimpleQueue[Any]] = None
        self._thread: Optional[threading.Thread] = None

    def call(self, what: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)`` on the worker; raises its exception, or
        :class:`StoreCallTimeout` naming ``what`` when it takes longer than ``timeout``."""
        if self._thread is None or not self._thread.is_alive() or self._queue is None:
            self._start()
        assert self._queue is not None and self._thread is not None
        done = threading.Event()
        outcome: Dict[str, Any] = {}
        self._queue.put((function, args, kwargs, outcome, done))
        if not done.wait(self.timeout):
            stuck = self._thread
            _ABANDONED.append(stuck)
            self._thread = self._queue = None
            self.overran.append(what)
            raise StoreCallTimeout(f"{what} did not return within {describe_seconds(self.timeout)}")
        if "error" in outcome:
            error: BaseException = outcome["error"]
            raise error.with_traceback(error.__traceback__)
        result: T = outcome["result"]
        return result

    def stop(self) -> None:
        """Let the worker thread end (it is a daemon either way)."""
        if self._queue is not None:
            self._queue.put(None)
        self._thread = self._queue = None

    def _start(self) -> None:
        work: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._queue = work
        self._thread = threading.Thread(target=_serve, args=(work,), name=f"kit-{self.name}", daemon=True)
        self._thread.start()


def _serve(work: queue.SimpleQueue[Any]) -> None:
    while True:
        item = work.get()
        if item is None:
            return
        function, args, kwargs, outcome, done = item
        try:
            outcome["result"] = function(*args, **kwargs)
        except BaseException as error:  # handed to the caller's thread, which raises it
            outcome["error"] = error
        finally:
            done.set()


def call_with_deadline(what: str, timeout: float, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """One call on a fresh daemon thread; see :meth:`CallRunner.call`."""
    runner = CallRunner(timeout, what)
    try:
        return runner.call(what, function, *args, **kwargs)
    finally:
        runner.stop()


_STORE_CALLS = frozenset({"add", "filter", "list_modules", "close"})


class StoreProxy:
    """Stands for a store: ``add``, ``filter``, ``list_modules`` and ``close`` run through a
    :class:`CallRunner`, and the thunks ``filter`` returns are :class:`ThunkProxy`; any other
    attribute is the store's own. ``isinstance`` sees the store's class."""

    def __init__(self, store: Any, runner: CallRunner) -> None:
        object.__setattr__(self, "_tracestore_target", store)
        object.__setattr__(self, "_tracestore_runner", runner)

    @property  # type: ignore[misc]  # isinstance(proxy, StoreClass) holds, as for the store
    def __class__(self) -> Any:
        return type(self._tracestore_target)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._tracestore_target, name)
        if name not in _STORE_CALLS or not callable(value):
            return value
        runner: CallRunner = self._tracestore_runner

        def call(*args: Any, **kwargs: Any) -> Any:
            result = runner.call(name, value, *args, **kwargs)
            return _wrap_thunks(result, runner) if name == "filter" else result

        return call

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._tracestore_target, name, value)

    def __repr__(self) -> str:
        return repr(self._tracestore_target)


class ThunkProxy:
    """Stands for a thunk: ``to_trace`` runs through the store's :class:`CallRunner`; other
    attributes (a row's fields) are the thunk's own, and ``==`` compares the thunks."""

    def __init__(self, thunk: Any, runner: CallRunner) -> None:
        object.__setattr__(self, "_tracestore_target", thunk)
        object.__setattr__(self, "_tracestore_runner", runner)

    @property  # type: ignore[misc]
    def __class__(self) -> Any:
        return type(self._tracestore_target)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._tracestore_target, name)
        if name != "to_trace" or not callable(value):
            return value
        runner: CallRunner = self._tracestore_runner
        return lambda *args, **kwargs: runner.call("to_trace", value, *args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return bool(self._tracestore_target == unwrap(other))

    def __hash__(self) -> int:
        return hash(self._tracestore_target)

    def __repr__(self) -> str:
        return repr(self._tracestore_target)


def _wrap_thunks(result: Any, runner: CallRunner) -> Any:
    if isinstance(result, list):
        return [ThunkProxy(thunk, runner) for thunk in result]
    if isinstance(result, tuple):
        return tuple(ThunkProxy(thunk, runner) for thunk in result)
    return result


def unwrap(obj: Any) -> Any:
    """The store or thunk behind a proxy (``obj`` itself when it is none)."""
    if type(obj) in (StoreProxy, ThunkProxy):
        return object.__getattribute__(obj, "_tracestore_target")
    return obj


def wait_for_threads(
    threads: List[Tuple[str, threading.Thread]], started: Dict[str, float], timeout: float
) -> List[str]:
    """Join writer threads; names each one stuck in a call for more than ``timeout`` seconds.

    ``started[name]`` is when that thread's current call began (absent between calls).
    """
    stuck: List[str] = []
    while True:
        alive = [(name, thread) for name, thread in threads if thread.is_alive()]
        if not alive:
            return stuck
        now = time.monotonic()
        for name, thread in alive:
            began = started.get(name)
            if began is not None and now - began > timeout:
                stuck.append(name)
                _ABANDONED.append(thread)
        if stuck:
            return stuck
        alive[0][1].join(0.05)
