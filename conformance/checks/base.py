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
    Type,
    TypeVar,
)

import hypothesis
import pytest

from conformance import profiles, requirements
from conformance.connections import ConnectionStrings
from conformance.model import RowKey, trace_key
from conformance.rules import MARKER, RULES
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
        """``filter``'s answer, decoded and keyed; ``limit=None`` leaves the store's default."""
        if limit is None:
            return decode_keys(self.store.filter(module, prefix))
        return decode_keys(self.store.filter(module, prefix, limit))

    def keys_of_unknown(
        self, module: str, prefix: Optional[str] = None, limit: Optional[int] = None
    ) -> List[RowKey]:
        """Like :meth:`keys`, for a module without traces; an error counts as ``[]`` (S8 checks it)."""
        try:
            return self.keys(module, prefix, limit)
        except Exception:
            return []

    def close(self) -> None:
        for store in reversed(self.opened):
            close_store(store)
        self.opened.clear()


class KitBase(Generic[StoreT]):
    """Hooks and shared plumbing; each hook's docstring is its contract.

    The shortest subclass states ``store_class`` and ``connection_template``; the kit then
    derives ``make_store``, ``reopen_store``, ``connection_string`` and ``remove_store`` (the
    same way the CLI builds stores). A hook written in the subclass overrides the derived one.
    What a store can do is decided in one place, :mod:`conformance.requirements`.
    """

    __tracestore_kit__: ClassVar[bool] = True  # lets the pytest plugin find kit test classes

    store_class: ClassVar[Optional[Type[Any]]] = None
    """The store class; with it the kit derives the hooks from ``store_class.make_store``. Its
    ``ordered_results``, ``distinct_results`` and ``process_local`` apply unless the test
    class states its own."""

    connection_template: ClassVar[Optional[str]] = None
    """``store_class.make_store``'s argument: ``{directory}`` becomes the example's fresh
    directory, ``{unique}`` a fresh identifier (default: the store class's
    ``example_connection_string``, else ``"{directory}/store"``)."""

    distinct_results: ClassVar[bool] = True
    """S6: True when the store never returns two equal rows (a trace added again counts at its
    latest position); False when it keeps every duplicate."""

    ordered_results: ClassVar[bool] = False
    """S15: True when ``filter`` lists results most recent first; with False the kit compares
    answers as multisets and skips S15, saying so."""

    process_local: ClassVar[bool] = False
    """True when no other process can open the store's data (an in-memory store): S10's reopen in
    another process and the multi-process half of S11 are then skipped, saying so."""

    declared_deviations: ClassVar[Mapping[str, str]] = MappingProxyType({})
    """Rules the store knowingly breaks, each with the reason: their tests must fail, and a rule
    whose tests all pass is an error. Unknown rule IDs are an error."""

    _tracestore_expect_failure: bool = False  # set per test by the declared-deviations fixture
    _tracestore_strings: ClassVar[Optional[ConnectionStrings]] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        store_class = cls.__dict__.get("store_class")
        if store_class is not None:
            for name in _ADOPTED_FROM_STORE_CLASS:
                stated = any(name in klass.__dict__ for klass in cls.__mro__ if not _is_kit_family(klass))
                if not stated and hasattr(store_class, name):
                    setattr(cls, name, bool(getattr(store_class, name)))
        template = requirements.template_of(cls)
        cls._tracestore_strings = None if template is None else ConnectionStrings(template)

    def make_store(self, directory: Path) -> StoreT:
        """Required, or derived from ``store_class``: a new, empty store for one example.

        Called once per generated example with a fresh empty ``directory``, which the kit
        deletes afterwards; the store keeps its data there (or, server-backed, in a schema or
        table of its own). The kit calls ``close()`` on the store first if it has one.
        """
        strings = self._tracestore_strings
        if strings is None:
            raise NotImplementedError(
                f"{type(self).__qualname__} must define make_store(self, directory) or store_class"
            )
        store: StoreT = self._store_class().make_store(strings.fresh(directory))
        return store

    def reopen_store(self, store: StoreT, directory: Path) -> StoreT:
        """Optional (derived from ``store_class``): a second, independent handle on ``store``'s data.

        ``store`` is what ``make_store(directory)`` returned, and it is *not* closed first;
        open the data as a new process would. Enables S10 (capability ``reopen``).
        """
        strings = self._tracestore_strings
        if strings is None:
            raise NotImplementedError(f"{type(self).__qualname__} does not define reopen_store")
        store_class: Any = type(store)
        reopened: StoreT = store_class.make_store(strings.existing(directory))
        return reopened

    def connection_string(self, directory: Path) -> str:
        """Optional (derived from ``store_class``): the string that names ``make_store(directory)``'s data.

        ``type(store).make_store(connection_string)`` in another process must open the same
        data (the class importable by ``__module__``/``__qualname__``). Enables S10's reopen in
        another process, the multi-process half of S11 (capability ``other_processes``) and the
        default bad strings of S14.
        """
        strings = self._tracestore_strings
        if strings is None:
            raise NotImplementedError(f"{type(self).__qualname__} does not define connection_string")
        return strings.existing(directory)

    def remove_store(self, directory: Path) -> None:
        """Optional (derived from ``store_class.drop_store``): delete what ``make_store(directory)``
        made outside ``directory`` (a schema, a table, keys on a server).

        Called after each example, once its stores are closed; the kit deletes ``directory``
        itself. Capability ``server_cleanup``.
        """
        strings = self._tracestore_strings
        drop = getattr(type(self).store_class, "drop_store", None)
        if strings is None or not callable(drop):
            return
        made = strings.forget(directory)
        if made is not None:
            drop(made)

    def bad_connection_strings(self, directory: Path) -> Sequence[str]:
        """Optional: connection strings that cannot name a store, for S14.

        The kit first creates a regular file ``directory / "not-a-directory"``, and a regular
        file of foreign text under the name of each file or directory that a new store makes
        and its connection string names. The default: ``connection_string(directory)`` with
        ``directory`` replaced by that first file's path, and, where a foreign file was
        planted, ``connection_string(directory)`` itself; none when the string does not
        contain ``directory`` (S14 is then skipped, saying so).
        """
        if not requirements.has_connection_string(self):
            return []
        good = self.connection_string(directory)
        if str(directory) not in good:
            return []
        bad = [good.replace(str(directory), str(directory / NOT_A_DIRECTORY), 1)]
        if any(str(path) in good for path in directory.iterdir() if path.name != NOT_A_DIRECTORY):
            bad.append(good)
        return bad

    def _store_class(self) -> Type[Any]:
        store_class = type(self).store_class
        assert store_class is not None
        return store_class

    # -- plumbing --------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _tracestore_requirements(self, request: pytest.FixtureRequest) -> None:
        """Skip a test whose required capability (``requirements.requires``) the store lacks."""
        for marker in request.node.iter_markers(requirements.MARKER):
            capability, rule = marker.args
            reason = requirements.skip_reason(self, capability, rule)
            if reason is not None:
                pytest.skip(reason)

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


_ADOPTED_FROM_STORE_CLASS = ("ordered_results", "distinct_results", "process_local")


def _is_kit_family(klass: type) -> bool:
    """The kit's own classes (KitBase, the check families, the mixin), whose defaults do not count."""
    module = klass.__module__
    if klass in (object, Generic):
        return True
    return module == "conformance.mixin" or module.startswith("conformance.checks.")


NOT_A_DIRECTORY = "not-a-directory"
"""Name of the regular file the S14 check creates; paths beneath it cannot name a store."""

FOREIGN_CONTENT = b"This file belongs to another program; it is not a trace store.\n" * 64
"""What the S14 check writes where a store would live: no store may take it, or change it."""
