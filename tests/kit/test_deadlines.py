"""The kit never hangs: every store call runs under a deadline, and an overrun fails its rule by name.

The hanging stores block forever on an event no one sets, so each overrun here is certain;
the runs in subprocesses are bounded by ``subprocess.run(timeout=...)`` besides.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import textwrap
import threading
from typing import Iterator, List

import pytest

from conformance import profiles
from conformance.checks import writers
from conformance.deadline import (
    CallRunner,
    StoreCallTimeout,
    StoreProxy,
    ThunkProxy,
    call_with_deadline,
    unwrap,
)
from conformance.report import ERROR, FAIL
from conformance.runner import run_kit
from reference_stores.memory import InMemoryStore
from tests.kit.probe_stores import HangingAddStore, HangingFilterStore
from tracestore import CallTrace, CallTraceRow

pytest_plugins = ["pytester"]

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROBES = "tests.kit.probe_stores"
NEVER = threading.Event()  # never set: waiting on it blocks forever


def never_returns() -> None:
    NEVER.wait()


def sample(n: int) -> int:
    return n


def test_a_runner_returns_results_and_raises_the_store_s_exceptions_from_one_thread() -> None:
    runner = CallRunner(30.0)
    threads = {runner.call("filter", threading.get_ident) for _ in range(3)}
    assert len(threads) == 1 and threads != {threading.get_ident()}
    with pytest.raises(KeyError, match="missing"):
        runner.call("filter", {}.__getitem__, "missing")
    runner.stop()


def test_an_overrun_names_the_call_and_the_time_and_the_next_call_gets_a_new_thread() -> None:
    runner = CallRunner(0.2)
    first = runner.call("make_store", threading.get_ident)
    with pytest.raises(StoreCallTimeout, match=r"^add did not return within 0\.2 s$"):
        runner.call("add", never_returns)
    assert runner.overran == ["add"]
    assert runner.call("close", threading.get_ident) != first
    with pytest.raises(StoreCallTimeout, match=r"^list_modules did not return within 0\.2 s$"):
        call_with_deadline("list_modules", 0.2, never_returns)


def test_a_timeout_is_not_an_exception_a_check_could_take_for_the_store_s_answer() -> None:
    assert not issubclass(StoreCallTimeout, Exception)


def test_the_proxy_stands_for_the_store_and_its_thunks() -> None:
    store = InMemoryStore.make_store("")
    runner = CallRunner(30.0)
    proxy: InMemoryStore = StoreProxy(store, runner)  # type: ignore[assignment]
    assert isinstance(proxy, InMemoryStore) and unwrap(proxy) is store and proxy.ordered_results
    trace = CallTrace(sample, {"n": int}, int)
    proxy.add([trace])
    (thunk,) = proxy.filter(sample.__module__)
    assert type(thunk).__name__ == ThunkProxy.__name__ and isinstance(thunk, CallTraceRow)
    assert thunk == CallTraceRow.from_trace(trace) and thunk.to_trace() == trace
    assert unwrap(thunk) == CallTraceRow.from_trace(trace)
    runner.stop()


def test_a_hanging_filter_fails_its_rule_at_the_first_overrun() -> None:
    report = run_kit(HangingFilterStore, profile="dev", rules=["S3"], timeout=0.5)
    assert report.results["S3"].status == FAIL
    assert "filter did not return within 0.5 s" in report.results["S3"].detail


def test_a_writer_process_whose_store_call_hangs_is_named_and_ended(tmp_path: pathlib.Path) -> None:
    failures = writers.run_processes(HangingAddStore, "", tmp_path, timeout=0.5)
    assert failures == [f"process p{n}: add did not return within 0.5 s" for n in range(writers.PROCESSES)]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "conformance", *args, "--profile", "dev"]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)


def rule_line(output: str, rule: str) -> str:
    return next(line for line in output.splitlines() if line.split()[:1] == [rule])


def test_cli_a_store_that_deadlocks_under_concurrent_adds_fails_s11_naming_the_call() -> None:
    result = run_cli(f"{PROBES}:DeadlockingAddStore", "--rule", "S11", "--timeout", "2")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith(f"tracestore conformance: {PROBES}:DeadlockingAddStore")
    line = rule_line(result.stdout, "S11")
    assert line.split()[1] == FAIL and "add did not return within 2 s" in line, line
    progress: List[str] = result.stderr.splitlines()
    started = "[1/2] S11.threads test_S11_concurrent_threads_lose_nothing ..."
    assert progress[0] == started and progress[1].startswith(started[:-3] + "failed "), progress


def test_cli_a_drop_store_that_blocks_is_an_error_naming_what_was_left() -> None:
    result = run_cli(f"{PROBES}:BlockingDropStore", "--rule", "S8", "--timeout", "1", "--quiet")
    assert result.returncode == 1, result.stdout + result.stderr
    line = rule_line(result.stdout, "S8")
    assert line.split()[1] == ERROR, line
    assert re.search(r"drop_store did not return within 1 s; left behind: 'kitdrop-[0-9a-f]{12}'", line), line


@pytest.fixture
def kit_profile() -> Iterator[None]:
    before = profiles.current_name()
    yield
    profiles.select(before)


@pytest.mark.usefixtures("kit_profile")
def test_mixin_call_timeout_bounds_each_store_call(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_store=textwrap.dedent(
            f"""
            from pathlib import Path

            from conformance import CallTraceStoreTests
            from {PROBES} import HangingFilterStore


            class TestStore(CallTraceStoreTests[HangingFilterStore]):
                call_timeout = 0.5

                def make_store(self, directory: Path) -> HangingFilterStore:
                    return HangingFilterStore.make_store(":memory:")
            """
        )
    )
    result = pytester.runpytest_inprocess("-k", "S3_prefix_is_literal", "--tracestore-profile", "dev")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*StoreCallTimeout: filter did not return within 0.5 s*"])
