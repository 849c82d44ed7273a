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

    The shortest subclass is two lines::

        class TestMyStore(CallTraceStoreTests[MyStore]):
            store_class = MyStore
            connection_template = "{directory}/traces.db"

    Every test is named ``test_<RULE>_<what>``, marked ``@pytest.mark.rule("<RULE>")`` and
    documented starting with the rule ID. Property tests draw from
    :mod:`conformance.strategies` with the settings of the current profile
    (:mod:`conformance.profiles`; ``--tracestore-profile`` or ``$TRACESTORE_PROFILE``), and
    each generated example gets a fresh store in a fresh directory. The kit talks to the
    store only through ``add``, ``filter``, the thunks' ``to_trace`` and ``list_modules``
    (:class:`StoreLike`), and compares traces field by field, so stores built on
    MonkeyType's own classes are checked as they are.

    The hooks and class attributes are documented where they are defined, on
    :class:`conformance.checks.base.KitBase`: ``store_class``, ``connection_template``,
    ``make_store``, ``reopen_store``, ``connection_string``, ``remove_store``,
    ``bad_connection_strings``, ``distinct_results``, ``ordered_results``,
    ``process_local``, ``declared_deviations`` (rules, or clauses like ``S4.negative``)
    and ``call_timeout``. What each capability enables is in
    :mod:`conformance.requirements`.
    """
