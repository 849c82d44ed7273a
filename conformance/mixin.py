"""``CallTraceStoreTests``: the pytest mixin that checks a store against the contract, rule by rule."""

from __future__ import annotations

from conformance.checks.base import StoreLike, StoreT, ThunkLike
from conformance.checks.basics import BasicChecks
from conformance.checks.concurrency import ConcurrencyChecks
from conformance.checks.failures import FailureChecks
from conformance.checks.modules import ModuleChecks
from conformance.checks.persistence import PersistenceChecks
from conformance.checks.query import QueryChecks
from conformance.checks.recency import RecencyChecks
from conformance.checks.stateful import StatefulChecks

__all__ = ["CallTraceStoreTests", "StoreLike", "ThunkLike"]


class CallTraceStoreTests(
    BasicChecks[StoreT],
    QueryChecks[StoreT],
    RecencyChecks[StoreT],
    FailureChecks[StoreT],
    PersistenceChecks[StoreT],
    ConcurrencyChecks[StoreT],
    ModuleChecks[StoreT],
    StatefulChecks[StoreT],
):
    """Subclass this in a pytest test class to check a call-trace store against the contract.

    Every test is named ``test_<RULE>_<what>``, marked ``@pytest.mark.rule("<RULE>")`` and
    documented starting with the rule ID. Property tests draw from
    :mod:`conformance.strategies` with the settings of the current profile
    (:mod:`conformance.profiles`; ``--tracestore-profile`` or ``$TRACESTORE_PROFILE``), and
    each generated example gets a fresh store in a fresh directory. The kit talks to the
    store only through ``add``, ``filter``, the thunks' ``to_trace`` and ``list_modules``
    (:class:`StoreLike`), and compares traces field by field, so stores built on
    MonkeyType's own classes are checked as they are.

    **Hooks** (override in the subclass; ``StoreT`` is your store class):

    ``make_store(self, directory: pathlib.Path) -> StoreT`` -- **required.**
        Return a new, empty store that keeps its data in ``directory`` (or, for a
        server-backed store, in a schema or table of its own). Called once per generated
        example with a fresh empty directory, which the kit deletes afterwards; the kit
        calls ``close()`` on the store first if it has one.

    ``reopen_store(self, store: StoreT, directory: pathlib.Path) -> StoreT`` -- optional.
        Return a second, independent handle on the same data as ``store`` (the one
        ``make_store(directory)`` returned), as a new process would open it. ``store`` is
        *not* closed first. Enables the durability rule S10 where the class has no
        ``connection_string`` hook (with one, S10 reopens the store in a new process by
        connection string); without either S10 is skipped with that reason.

    ``connection_string(self, directory: pathlib.Path) -> str`` -- optional.
        Return the connection string that names the store ``make_store(directory)``
        opened, such that ``type(store).make_store(connection_string)`` in another
        process opens the same data. Enables the multi-process half of S11 (the store
        class must be importable by ``__module__``/``__qualname__``) and the default bad
        strings of S14.

    ``remove_store(self, directory: pathlib.Path) -> None`` -- optional.
        Delete what ``make_store(directory)`` made outside ``directory`` (a schema or
        table on a server). Called after each example, once its stores are closed.

    ``bad_connection_strings(self, directory: pathlib.Path) -> Sequence[str]`` -- optional.
        Connection strings that cannot name a store, for S14. The kit first creates a
        regular file ``directory / "not-a-directory"``, and a regular file of foreign
        text under the name of each file or directory that a new store makes and its
        connection string names. The default returns ``connection_string(directory)``
        with ``directory`` replaced by that first file's path, and, where a foreign file
        was planted, ``connection_string(directory)`` itself; nothing when the string does
        not contain ``directory`` (and S14 is skipped, saying so).

    ``process_local: ClassVar[bool] = False``
        ``True`` (on the test class or the store class) for a store whose traces live in the
        memory of the process that added them: S10 and the multi-process half of S11 are then
        skipped, saying so. A store that does not declare it and has ``connection_string`` is
        reopened in a new process, where its traces must be.

    ``distinct_results: ClassVar[bool] = True``
        S6: ``True`` when the store never returns two equal rows (a trace added again
        counts at its latest position); ``False`` when it keeps every duplicate.

    ``ordered_results: ClassVar[bool] = False``
        S15: ``True`` when ``filter`` lists results most recent first. With ``False``
        the kit compares answers as multisets and skips S15, saying so.

    ``declared_deviations: ClassVar[Mapping[str, str]] = {}``
        Rules the store knowingly breaks, each with the reason. The tests of those rules
        then run as strict expected failures: they must fail, and a pass is an error.
        Unknown rule IDs are an error.

    Example::

        class TestMyStore(CallTraceStoreTests[MyStore]):
            ordered_results = True

            def make_store(self, directory: Path) -> MyStore:
                return MyStore.make_store(str(directory / "traces.db"))

            def reopen_store(self, store: MyStore, directory: Path) -> MyStore:
                return MyStore.make_store(str(directory / "traces.db"))
    """
