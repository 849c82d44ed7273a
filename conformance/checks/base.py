"""The kit's hooks, and the plumbing every group of checks shares.

:class:`KitBase` declares the hooks a user implements (documented on
``conformance.CallTraceStoreTests``), gives each example a fresh store in a fresh
directory (:meth:`KitBase.fresh_store`), applies the current settings profile
(:meth:`KitBase.hypothesis_settings`), runs every store call under a deadline
(:mod:`conformance.deadline`), reports failed cleanup, and turns declared deviations
into expected failures.
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
    Tuple,
    Type,
    TypeVar,
)

import hypothesis
import pytest

from conformance import profiles, requirements
from conformance.checks.reader import Query, read_in_new_process
from conformance.connections import ConnectionStrings
from conformance.deadline import DEFAULT_TIMEOUT, CallRunner, StoreCallTimeout, StoreProxy, unwrap
from conformance.model import HistoryModel, RowKey, trace_key
from conformance.rules import CLAUSES, MARKER, RULES, RuleFailure, declared_reason, parent_rule
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
    """A fresh store in its own directory, and the stores reopened from it; closes them all.

    Every call into the stores runs on one worker thread under the kit's deadline
    (``KitBase.call_timeout``): ``store`` is a :class:`conformance.deadline.StoreProxy`.
    """

    def __init__(self, kit: KitBase[StoreT], directory: Path) -> None:
        self.kit = kit
        self.directory = directory
        self.runner = CallRunner(kit.call_timeout, directory.name)
        self.opened: List[StoreT] = []
        self.store: StoreT = self._wrap(self.runner.call("make_store", kit.make_store, directory))
        self.opened.append(self.store)

    def reopen(self) -> StoreT:
        """Open the same store again with ``reopen_store`` (the old one stays open) and use it."""
        raw = self.runner.call("reopen_store", self.kit.reopen_store, unwrap(self.store), self.directory)
        self.store = self._wrap(raw)
        self.opened.append(self.store)
        return self.store

    def _wrap(self, store: StoreT) -> StoreT:
        wrapped: StoreT = StoreProxy(store, self.runner)  # type: ignore[assignment]  # stands for the store
        return wrapped

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

    def close(self) -> List[str]:
        """Close every store (each under the deadline); returns what went wrong, if anything."""
        problems: List[str] = []
        for store in reversed(self.opened):
            if self.runner.overran:  # the test failed on that already; a stuck store is not closed
                break
            try:
                close_store(store)
            except (Exception, StoreCallTimeout) as error:
                problems.append(f"close {_describe_error(error)}")
        self.opened.clear()
        return problems

    def remove(self) -> List[str]:
        """Call the kit's ``remove_store`` hook under the deadline; returns what went wrong.

        Once it has overrun in a test, it is not called again in that test (it would only wait
        out the deadline once more): each later store is reported as left behind.
        """
        kit, call = self.kit, self.kit.cleanup_call_name
        left = f"left behind: {kit.describe_store(self.directory)}"
        try:
            if kit._tracestore_cleanup_overran:
                return [f"{call} not called, as it did not return before; {left}"]
            self.runner.call(call, kit.remove_store, self.directory)
        except StoreCallTimeout as error:
            kit._tracestore_cleanup_overran = True
            return [f"{call} {_describe_error(error)}; {left}"]
        except Exception as error:
            return [f"{call} {_describe_error(error)}; {left}"]
        finally:
            self.runner.stop()
        return []


def _describe_error(error: BaseException) -> str:
    if isinstance(error, StoreCallTimeout):
        return str(error).partition(" ")[2]  # "did not return within 30 s"
    return f"raised {type(error).__name__}: {error}"


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
    """Rules, or clauses of a rule (``"S4.negative"``, ``conformance.rules.CLAUSES``), that the
    store knowingly breaks, each with the reason: only the rule's own assertion confirms one, and
    a declared rule whose tests all pass is an error. Unknown IDs are an error."""

    call_timeout: ClassVar[float] = DEFAULT_TIMEOUT
    """Seconds one call into the store (make_store, add, filter, to_trace, list_modules, close,
    remove_store, a writer) may take; a call that overruns fails its rule, naming the call."""

    cleanup_call_name: ClassVar[str] = "remove_store"  # how cleanup errors name the remove_store hook
    _tracestore_expect_failure: bool = False  # set per test by the declared-deviations fixture
    _tracestore_test_rules: Tuple[str, ...] = ()  # the running test's rule and clause IDs, likewise
    _tracestore_cleanup_problems: List[str]  # set per test by the cleanup fixture
    _tracestore_cleanup_overran: bool = False  # remove_store overran in this test
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
        """Optional (derived from the connection string): a second, independent handle on ``store``'s data.

        ``store`` is what ``make_store(directory)`` returned, and it is *not* closed first;
        open the data as a new process would. Enables S10 (capability ``reopen``).
        """
        if not requirements.has_connection_string(self):
            raise NotImplementedError(f"{type(self).__qualname__} does not define reopen_store")
        store_class: Any = type(unwrap(store))
        reopened: StoreT = store_class.make_store(self.connection_string(directory))
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
        made = strings.by_directory.get(str(directory))
        if made is not None:
            drop(made)
            strings.forget(directory)  # only once dropped: a failed drop is reported by this string

    def describe_store(self, directory: Path) -> str:
        """What cleanup errors say was left: the store's connection string where the kit made it,
        else whatever ``make_store(directory)`` made outside that directory."""
        strings = self._tracestore_strings
        made = None if strings is None else strings.by_directory.get(str(directory))
        if made is not None:
            return repr(made)
        return f"whatever make_store({str(directory)!r}) made outside that directory"

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

    def declared_apart(self, clause: str) -> bool:
        """Whether ``clause`` is declared alone and the running test checks the rest of its rule:
        such a test leaves out the inputs whose answer hangs on that clause."""
        declared = self.declared_deviations
        return (
            clause in declared
            and parent_rule(clause) not in declared
            and clause not in self._tracestore_test_rules
        )

    def is_process_local(self, store_class: Any) -> bool:
        """Whether the test class or the store class says ``process_local = True``: its data lives
        in the memory of the process that made it, so no other process can open it."""
        return bool(self.process_local or getattr(store_class, "process_local", False))

    def made_store_class(self, factory: pytest.TempPathFactory) -> Any:
        """The class of the stores ``make_store`` returns (one is made, and closed, to see it)."""
        with self.fresh_store(factory) as session:
            return type(unwrap(session.store))

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
        """The answers of a reopened store: opened in a new process by connection string where
        another process can open it (capability ``other_processes``), else with ``reopen_store``
        in this process (the old store stays open)."""
        if requirements.missing(self, "other_processes") is None:
            synthetic = sorted({(key[0], key[1]) for key in model.history if key[0] in REGISTRY})
            connection_string = self.connection_string(session.directory)
            store_class = type(unwrap(session.store))
            return read_in_new_process(store_class, connection_string, queries, synthetic)
        session.reopen()
        return [session.keys(*query) for query in queries]

    def require_reopen(self, factory: pytest.TempPathFactory) -> None:
        """Skip S10, saying why, for a process-local store (the ``reopen`` capability is declared
        on the test with ``requires``)."""
        self.skip_if_process_local(self.made_store_class(factory), "S10")

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
                problems = session.close()
                problems += session.remove()
                if problems:  # reported once the test is done, by the cleanup fixture
                    found = getattr(self, "_tracestore_cleanup_problems", None)
                    if found is None:
                        raise StoreCleanupError("; ".join(problems))
                    found.extend(problems)
            shutil.rmtree(directory, ignore_errors=True)

    def hypothesis_settings(self, stateful: bool = False, **overrides: Any) -> hypothesis.settings:
        """The current profile's settings (``conformance.profiles``), with ``overrides``.

        A test expected to fail (a declared deviation) does not shrink: any failure will do.
        """
        if self._tracestore_expect_failure:
            overrides.setdefault("phases", profiles.NO_SHRINK)
        return profiles.current_stateful(**overrides) if stateful else profiles.current(**overrides)

    @pytest.fixture(autouse=True)
    def _tracestore_cleanup(self) -> Iterator[None]:
        """Report (as an error of the test) any store the test could not close or remove."""
        problems: List[str] = []
        self._tracestore_cleanup_problems = problems
        self._tracestore_cleanup_overran = False
        yield
        if problems:
            shown = list(dict.fromkeys(problems))
            pytest.fail(f"cleanup failed: {'; '.join(shown[:5])}", pytrace=False)

    @pytest.fixture(autouse=True)
    def _tracestore_declared_deviations(self, request: pytest.FixtureRequest) -> None:
        """Expect each test of a rule or clause listed in ``declared_deviations`` to fail by the
        rule's own assertion (:func:`conformance.rules.is_rule_failure`; any other exception is
        an error). Not strict: a passing test is an XPASS, and the plugin fails the session when
        every test of a declared rule passed."""
        unknown = sorted(set(self.declared_deviations) - set(RULES) - set(CLAUSES))
        if unknown:
            pytest.fail(
                f"{type(self).__qualname__}.declared_deviations names unknown rule(s) {unknown}",
                pytrace=False,
            )
        markers = list(request.node.iter_markers(MARKER))
        self._tracestore_test_rules = tuple(str(rule) for marker in markers for rule in marker.args)
        for marker in markers:
            for rule in marker.args:
                for declared in (rule, parent_rule(rule)):
                    reason = self.declared_deviations.get(declared)
                    if reason is not None:
                        self._tracestore_expect_failure = True
                        request.node.add_marker(
                            pytest.mark.xfail(
                                strict=False, raises=RuleFailure, reason=declared_reason(declared, reason)
                            )
                        )
                        return


class StoreCleanupError(Exception):
    """A store could not be closed or removed (outside a kit test, where no fixture reports it)."""


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
