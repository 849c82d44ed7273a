"""Checks of durability (S10) and of bad connection strings (S14)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from hypothesis import example, given

from conformance import requirements
from conformance.checks.base import (
    FOREIGN_CONTENT,
    NOT_A_DIRECTORY,
    KitBase,
    StoreT,
    close_store,
)
from conformance.checks.reader import Query, describe_query
from conformance.checks.recency import HISTORIES, PREFIXES
from conformance.deadline import call_with_deadline, unwrap
from conformance.model import HistoryModel, RowKey, describe
from conformance.requirements import requires
from conformance.sample_functions import FUNCTIONS
from tracestore import CallTrace

Snapshot = Dict[str, Tuple[int, float]]
_S10_HISTORY = [
    [CallTrace(FUNCTIONS[0], {"a": int}, str), CallTrace(FUNCTIONS[1], {}, None)],
    [CallTrace(FUNCTIONS[3], {"b": int}, int), CallTrace(FUNCTIONS[0], {"a": int}, str)],
]


def _tree(directory: Path) -> Snapshot:
    """Every path below ``directory`` with its size and modification time."""
    found: Snapshot = {}
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            path = os.path.join(root, name)
            stat = os.lstat(path)
            found[os.path.relpath(path, directory)] = (stat.st_size, stat.st_mtime)
    return found


def _names_input(message: str, bad: str, directory: Path) -> bool:
    """Whether ``message`` names ``bad`` or its offending part (an ancestor path below ``directory``)."""
    if bad in message:
        return True
    path = Path(bad)
    return any(str(p) in message for p in path.parents if directory in p.parents)


class PersistenceChecks(KitBase[StoreT]):
    # -- S10 ---------------------------------------------------------------------

    @pytest.mark.rule("S10")
    @requires("reopen", "S10")
    def test_S10_reopened_store_has_every_trace(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S10: once add returns, the store reopened (with no close; in a new process where the kit
        has a connection string) has its traces and answers the same."""
        self.require_reopen(tmp_path_factory)

        @self.hypothesis_settings()
        @given(history=HISTORIES)
        @example(history=_S10_HISTORY)  # fails a store that loses traces at once, without shrinking
        def check(history: List[List[CallTrace]]) -> None:
            model = HistoryModel(self.distinct_results)
            with self.fresh_store(tmp_path_factory) as session:
                for batch in history:
                    session.store.add(batch)
                    model.add(batch)
                queries: List[Query] = [(m, p, None) for m in sorted(model.modules()) for p in PREFIXES]
                before = [self._arranged(session.keys(*query)) for query in queries]
                after = [self._arranged(keys) for keys in self.reopened_answers(session, queries, model)]
                for query, old, new in zip(queries, before, after):
                    assert new == old, (
                        f"S10: reopened, {describe_query(query)} answered {[describe(k) for k in new]}, "
                        f"but before it answered {[describe(k) for k in old]}"
                    )
                for query, new in zip(queries, after):
                    lost = [k for k in model.expected(query[0], query[1]) if k not in new]
                    assert not lost, f"S10: the reopened store lost {[describe(k) for k in lost]}"

        check()

    def _arranged(self, keys: List[RowKey]) -> List[RowKey]:
        return keys if self.ordered_results else sorted(keys)

    # -- S14 ---------------------------------------------------------------------

    def _bad_attempts(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> List[Tuple[str, Path, Optional[BaseException], Snapshot, Snapshot]]:
        """Try each bad connection string: ``(string, directory, error, tree before, tree after)``."""
        with self.fresh_store(tmp_path_factory) as session:
            store_class: Any = type(unwrap(session.store))
            homes = self._store_homes(session.directory)
        directory = tmp_path_factory.mktemp("bad", numbered=True)
        (directory / NOT_A_DIRECTORY).write_text("a regular file, so no store can live beneath it\n")
        for name in homes:
            (directory / name).write_bytes(FOREIGN_CONTENT)
        bad_strings = list(self.bad_connection_strings(directory))
        if not bad_strings:
            pytest.skip(
                f"S14 not checked: {type(self).__qualname__} gives no bad connection strings "
                "(define connection_string() returning a path below the directory, "
                "or override bad_connection_strings())"
            )
        attempts = []
        for bad in bad_strings:
            before = _tree(directory)
            error: Optional[BaseException] = None
            try:
                made = call_with_deadline("make_store", self.call_timeout, store_class.make_store, bad)
            except Exception as exc:
                error = exc
            else:
                call_with_deadline("close", self.call_timeout, close_store, made)
            attempts.append((bad, directory, error, before, _tree(directory)))
        return attempts

    def _store_homes(self, directory: Path) -> List[str]:
        """The entries a new store made in ``directory`` that its connection string names (its
        file or directory), where S14 plants a foreign file; none without ``connection_string``."""
        if not requirements.has_connection_string(self):
            return []
        good = self.connection_string(directory)
        return sorted(path.name for path in directory.iterdir() if str(path) in good)

    @pytest.mark.rule("S14")
    def test_S14_bad_connection_string_error_names_it(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S14: make_store with a connection string that cannot name a store raises an error naming it."""
        for bad, directory, error, _, _ in self._bad_attempts(tmp_path_factory):
            assert error is not None, (
                f"S14: make_store({bad!r}) did not raise, though no store can live there"
            )
            assert _names_input(str(error), bad, directory), (
                f"S14: the error for make_store({bad!r}) does not say which input is wrong: "
                f"{type(error).__name__}: {error}"
            )

    @pytest.mark.rule("S14")
    def test_S14_bad_connection_string_leaves_nothing(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S14: a failed make_store leaves nothing half-made behind."""
        for bad, _, error, before, after in self._bad_attempts(tmp_path_factory):
            assert error is not None, (
                f"S14: make_store({bad!r}) did not raise, though no store can live there"
            )
            assert after == before, (
                f"S14: make_store({bad!r}) failed but changed its directory: "
                f"new or changed {sorted(k for k in after if after.get(k) != before.get(k))}, "
                f"removed {sorted(k for k in before if k not in after)}"
            )

    @pytest.mark.rule("S14")
    @requires("connection_string", "S14")
    def test_S14_missing_parents_are_not_made_for_a_bad_string(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """S14: a bad connection string through missing directories (``new/dirs/../../``) to a
        foreign file fails and leaves the missing directories unmade."""
        with self.fresh_store(tmp_path_factory) as session:
            homes = self._store_homes(session.directory)
        directory = tmp_path_factory.mktemp("bad", numbered=True)
        for name in homes:
            (directory / name).write_bytes(FOREIGN_CONTENT)
        good = self.connection_string(directory)
        if not homes or str(directory) not in good:
            pytest.skip("S14 not checked here: the connection string names no file or directory of its own")
        detour = os.path.join(str(directory), "missing-a", "missing-b", os.pardir, os.pardir)
        bad = good.replace(str(directory), detour, 1)
        before = _tree(directory)
        store_class: Any = type(unwrap(session.store))
        error: Optional[BaseException] = None
        try:
            made = store_class.make_store(bad)
        except Exception as exc:
            error = exc
        else:
            close_store(made)
        after = _tree(directory)
        assert error is not None, f"S14: make_store({bad!r}) did not raise, though it names a foreign file"
        assert after == before, (
            f"S14: make_store({bad!r}) failed ({type(error).__name__}: {error}) but left "
            f"{sorted(k for k in after if k not in before)} behind"
        )
