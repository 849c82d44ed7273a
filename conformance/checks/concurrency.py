"""Checks of concurrent writers (S11); the writers themselves are in ``conformance.checks.writers``."""

from __future__ import annotations

from typing import Any, List

import pytest

from conformance.checks import writers
from conformance.checks.base import KitBase, StoreT, close_store
from conformance.deadline import call_with_deadline
from conformance.model import RowKey, trace_key
from conformance.requirements import requires
from conformance.sample_functions import module_function


def _missing(store: Any, names: List[str], count: int) -> List[str]:
    module = module_function.__module__
    stored = store.filter(module, None, 100_000)
    got = {trace_key(thunk.to_trace()) for thunk in stored}
    want: List[RowKey] = [trace_key(t) for name in names for t in writers.writer_traces(name, count)]
    return [k[2] for k in want if k not in got]


class ConcurrencyChecks(KitBase[StoreT]):
    @pytest.mark.rule("S11.threads")
    def test_S11_concurrent_threads_lose_nothing(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S11: threads adding to one store at once: no call raises and every trace is stored."""
        with self.fresh_store(tmp_path_factory) as session:
            errors = writers.run_threads(session.store, self.call_timeout)
            if errors:  # not an assert: its rewriting would fold the tracebacks into one line
                pytest.fail(
                    f"S11: {len(errors)} writer thread(s) failed:\n" + "\n".join(errors[:2]), pytrace=False
                )
            names = [f"t{n}" for n in range(writers.THREADS)]
            missing = _missing(session.store, names, writers.TRACES_PER_THREAD)
            assert not missing, (
                f"S11: {len(missing)} trace(s) written by concurrent threads were lost: {missing[:5]}"
            )

    @pytest.mark.rule("S11.processes")
    @requires("other_processes", "S11.processes")
    def test_S11_concurrent_processes_lose_nothing(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S11: processes opening the store by connection string and adding at once lose nothing."""
        store_class: Any = self.made_store_class(tmp_path_factory)
        self.skip_if_process_local(store_class, "S11 processes")
        with self.fresh_store(tmp_path_factory) as session:
            if store_class.__module__ == "__main__":
                pytest.skip(
                    "S11 processes not checked: the store class is in __main__, which a writer cannot import"
                )
            connection_string = self.connection_string(session.directory)
            if not writers.sees_other_processes(
                session.store, store_class, connection_string, self.call_timeout
            ):
                pytest.skip(
                    f"S11 processes not checked: a process opening {connection_string!r} does not see the "
                    "traces this process added, so what writer processes add cannot be counted here; the "
                    "store does not declare process_local = True, so its S10 check (a reopen in a new "
                    "process) fails; S11 is checked with threads only"
                )
            signals = tmp_path_factory.mktemp("signals", numbered=True)
            failures = writers.run_processes(store_class, connection_string, signals, self.call_timeout)
            if failures:
                pytest.fail("S11: writer processes failed:\n" + "\n".join(failures), pytrace=False)
            reader = call_with_deadline(
                "make_store", self.call_timeout, store_class.make_store, connection_string
            )
            try:
                names = [f"p{n}" for n in range(writers.PROCESSES)]
                missing = call_with_deadline(
                    "filter", self.call_timeout, _missing, reader, names, writers.TRACES_PER_PROCESS
                )
            finally:
                call_with_deadline("close", self.call_timeout, close_store, reader)
            assert not missing, (
                f"S11: {len(missing)} trace(s) written by concurrent processes were lost: {missing[:5]}"
            )
