"""The kit's hooks, and the plumbing every group of checks shares.

:class:`KitBase` declares the hooks a user implements (documented on
``conformance.CallTraceStoreTests``), gives each example a fresh store in a fresh
directory (:meth:`KitBase.fresh_store`), applies the current settings profile
(:meth:`KitBase.hypothesis_settings`) and turns declared deviations into strict
expected failures.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
from pathlib import Path
from types import MappingProxyType
from typing import (
    Any,
    ClassVar,
    Generic,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    TypeVar,
)

import hypothesis
import pytest

from conformance import profiles
from conformance.checks.reader import Query, read_in_new_process
from conformance.model import HistoryModel, RowKey, trace_key
from conformance.rules import MARKER, RULES
from conformance.strategies.synthetic import REGISTRY
from tracestore.loading import StoreLike, ThunkLike

__all__ = ["KitBase", "StoreLike", "StoreSession", "StoreT", "ThunkLike", "close_store", "decode_keys"]


StoreT = TypeVar("StoreT", bound=StoreLike)

_DIRECTORY_NUMBERS = itertools.count()


def close_store(store: object) -> None:
    """Call ``store.close()`` if the store has one."""
    close = getattr(store, "close", None)
    if callable(close):
        close()


def decode_keys(thunks: Iterable[ThunkLike]) -> List[RowKey]:
    """Decode every thunk and key it as the model does."""
    return [trace_key(thunk.to_trace()) for thunk in thunks]


class StoreSession(Generic[StoreT]):
    """A fresh store in its own directory, and the stores reopened from it; closes them all."""

    def __init__(self, kit: KitBase[StoreT], directory: Path) -> None:
        self.kit = kit
        self.directory = directory
        self.opened: List[StoreT] = []
        self.store: StoreT = kit.make_store(directory)
        self.opened.append(self.store)

    def reopen(self) -> StoreT:
        """Open the same store again with ``reopen_store`` (the old one stays open) and use it."""
        self.store = self.kit.reopen_store(self.store, self.directory)
        self.opened.append(self.store)
        return self.store

    def keys(self, module: str, prefix: Optional[str] = None, limit: Optional[int] = None) -> List[RowKey]:
        """``filter``'s answer, decoded and keyed; ``limit=None`` leaves the store's default.

        An exception from ``filter`` or a thunk's ``to_trace`` is an ``AssertionError`` naming the
        call and the exception: no rule lets either raise for the traces the kit adds.
        """
        call = f"filter({module!r}, {prefix!r}{'' if limit is None else f', {limit}'})"
        try:
            thunks = (
                self.store.filter(module, prefix)
                if limit is None
                else self.store.filter(module, prefix, limit)
            )
        except Exception as exc:
            raise AssertionError(f"{call} raised {type(exc).__name__}: {exc}") from exc
        try:
            return decode_keys(thunks)
        except Exception as exc:
            raise AssertionError(
                f"to_trace() of a thunk from {call} raised {type(exc).__name__}: {exc}"
            ) from exc

    def close(self) -> None:
        for store in reversed(self.opened):
            close_store(store)
        self.opened.clear()


class KitBase(Generic[StoreT]):
    """Hooks and shared plumbing; see ``conformance.CallTraceStoreTests`` for the hooks' contract."""

    distinct_results: ClassVar[bool] = True
    ordered_results: ClassVar[bool] = False
    declared_deviations: ClassVar[Mapping[str, str]] = MappingProxyType({})
    process_local: ClassVar[bool] = False
    _tracestore_expect_failure: bool = False  # set per test by the declared-deviations fixture

    def make_store(self, directory: Path) -> StoreT:
        raise NotImplementedError(f"{type(self).__qualname__} must define make_store(self, directory)")

    def reopen_store(self, store: StoreT, directory: Path) -> StoreT:
        raise NotImplementedError(f"{type(self).__qualname__} does not define reopen_store")

    def connection_string(self, directory: Path) -> str:
        raise NotImplementedError(f"{type(self).__qualname__} does not define connection_string")

    def remove_store(self, directory: Path) -> None:
        """Default: nothing; the kit deletes ``directory`` itself."""

    def bad_connection_strings(self, directory: Path) -> Sequence[str]:
        """Default: ``connection_string`` with ``directory`` swapped for the regular file
        ``directory / "not-a-directory"``, and, when the kit planted a foreign file where the
        store would live, ``connection_string(directory)`` itself; none unless it contains
        ``directory``."""
        if not self.has_hook("connection_string"):
            return []
        good = self.connection_string(directory)
        if str(directory) not in good:
            return []
        bad = [good.replace(str(directory), str(directory / NOT_A_DIRECTORY), 1)]
        if any(str(path) in good for path in directory.iterdir() if path.name != NOT_A_DIRECTORY):
            bad.append(good)
        return bad

    # -- plumbing --------------------------------------------------------------

    def has_hook(self, name: str) -> bool:
        """Whether the subclass overrides the optional hook ``name``."""
        return getattr(type(self), name) is not getattr(KitBase, name)

    def require_hook(self, name: str, rule: str, why: str) -> None:
        """Skip, saying why, when the optional hook ``name`` that ``rule`` needs is not defined."""
        if not self.has_hook(name):
            pytest.skip(f"{rule} not checked: {type(self).__qualname__} does not define {name}() ({why})")

    def is_process_local(self, store_class: Any) -> bool:
        """Whether the test class or the store class says ``process_local = True``: its data lives
        in the memory of the process that made it, so no other process can open it."""
        return bool(self.process_local or getattr(store_class, "process_local", False))

    def store_class(self, factory: pytest.TempPathFactory) -> Any:
        """The class of the stores ``make_store`` returns (one is made, and closed, to see it)."""
        with self.fresh_store(factory) as session:
            return type(session.store)

    def skip_if_process_local(self, store_class: Any, rule: str) -> None:
        """Skip ``rule``, saying why, for a store declared process-local."""
        if self.is_process_local(store_class):
            pytest.skip(
                f"{rule} not checked: {store_class.__qualname__} is process-local (process_local = True): "
                "its traces live in the memory of the process that added them, so no new process can "
                "reopen the store (S10) or write to it (the process half of S11)"
            )

    def reopened_answers(
        self, session: StoreSession[StoreT], queries: Sequence[Query], model: HistoryModel
    ) -> List[List[RowKey]]:
        """The answers of a reopened store: opened in a new process by connection string where the
        kit has one, else with ``reopen_store`` in this process (the old store stays open)."""
        if self.has_hook("connection_string"):
            synthetic = sorted({(key[0], key[1]) for key in model.history if key[0] in REGISTRY})
            connection_string = self.connection_string(session.directory)
            return read_in_new_process(type(session.store), connection_string, queries, synthetic)
        session.reopen()
        return [session.keys(*query) for query in queries]

    def require_reopen(self, factory: pytest.TempPathFactory) -> None:
        """Skip S10, saying why, for a process-local store or one the kit cannot reopen."""
        self.skip_if_process_local(self.store_class(factory), "S10")
        if not self.has_hook("connection_string"):
            self.require_hook("reopen_store", "S10", "durability is checked by reopening")

    @contextlib.contextmanager
    def fresh_store(self, factory: pytest.TempPathFactory) -> Iterator[StoreSession[StoreT]]:
        """A new store in a new empty directory, closed and deleted afterwards."""
        # A name never used before in this process, even once the directory is deleted: stores that
        # share data by name (like reference_stores.memory) must not find an earlier example's data.
        directory = factory.mktemp(f"store{next(_DIRECTORY_NUMBERS)}-", numbered=True)
        session: Optional[StoreSession[StoreT]] = None
        try:
            session = StoreSession(self, directory)
            yield session
        finally:
            if session is not None:
                session.close()
                self.remove_store(directory)
            shutil.rmtree(directory, ignore_errors=True)

    def hypothesis_settings(self, stateful: bool = False, **overrides: Any) -> hypothesis.settings:
        """The current profile's settings (``conformance.profiles``), with ``overrides``.

        A test expected to fail (a declared deviation) does not shrink: any failure will do.
        """
        if self._tracestore_expect_failure:
            overrides.setdefault("phases", profiles.NO_SHRINK)
        return profiles.current_stateful(**overrides) if stateful else profiles.current(**overrides)

    @pytest.fixture(autouse=True)
    def _tracestore_declared_deviations(self, request: pytest.FixtureRequest) -> None:
        """Expect a strict failure from each test of a rule listed in ``declared_deviations``."""
        unknown = sorted(set(self.declared_deviations) - set(RULES))
        if unknown:
            pytest.fail(
                f"{type(self).__qualname__}.declared_deviations names unknown rule(s) {unknown}",
                pytrace=False,
            )
        for marker in request.node.iter_markers(MARKER):
            for rule in marker.args:
                reason = self.declared_deviations.get(rule)
                if reason is not None:
                    self._tracestore_expect_failure = True
                    request.node.add_marker(
                        pytest.mark.xfail(strict=True, reason=f"declared deviation from {rule}: {reason}")
                    )
                    return


NOT_A_DIRECTORY = "not-a-directory"
"""Name of the regular file the S14 check creates; paths beneath it cannot name a store."""

FOREIGN_CONTENT = b"This file belongs to another program; it is not a trace store.\n" * 64
"""What the S14 check writes where a store would live: no store may take it, or change it."""
