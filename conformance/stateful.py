"""A Hypothesis state machine that interleaves ``add``, ``filter`` and reopening of one store.

Each run gets a fresh store and a pool of traces of functions in runtime modules with
adversarial names (:mod:`conformance.strategies`). ``add`` adds batches drawn from the
pool and from traces added before; ``filter`` asks with a random module (unknown ones
included), prefix (near misses and metacharacters included) and limit (0 and the
default included), and every answer is diagnosed by :class:`conformance.model.HistoryModel`,
failing on the violations of the rules the machine checks. ``reopen`` (for S10) reopens
the store without closing it (in a new process where the kit has a connection string) and
compares the answers before and after.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, FrozenSet, List, Optional

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from conformance import requirements
from conformance import strategies as cs
from conformance.checks.base import KitBase, StoreSession
from conformance.checks.reader import Query, describe_query
from conformance.model import HistoryModel, describe
from conformance.strategies.synthetic import REGISTRY
from tracestore import CallTrace

_ARG_TYPES: List[Dict[str, Any]] = [{"a": int}, {"a": str}]
_RETURNS: List[Any] = [None, bytes]
PROCESS_REOPENS = 2
"""New-process reopens per run: each starts Python, so the rest of a run's reopens stay in-process."""
_LIMITS = st.one_of(st.integers(0, 10), st.none())


class StoreMachine(RuleBasedStateMachine):
    """Base machine; :func:`machine_for` binds it to a kit instance and the rules to check."""

    kit: ClassVar[KitBase[Any]]
    factory: ClassVar[pytest.TempPathFactory]
    checks: ClassVar[FrozenSet[str]] = frozenset()
    reopens: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        self._context = self.kit.fresh_store(self.factory)
        self.session: StoreSession[Any] = self._context.__enter__()
        self.model = HistoryModel(self.kit.distinct_results)
        self.pool: List[CallTrace] = []
        self.added: List[CallTrace] = []
        self.modules: List[str] = []
        self.queried_modules: List[str] = []
        self.prefixes: st.SearchStrategy[Optional[str]] = st.none()
        self.process_reopens = 0

    @initialize(modules=cs.sibling_module_names(), names=cs.sibling_qualnames())
    def make_pool(self, modules: List[str], names: List[str]) -> None:
        self.modules = modules[:3]
        self.queried_modules = modules
        qualnames = names[:4]
        functions = [REGISTRY.function(m, q) for m in self.modules for q in qualnames]
        self.pool = [CallTrace(f, a, r) for f in functions for a in _ARG_TYPES for r in _RETURNS]
        self.prefixes = cs.prefixes_of(names)

    @rule(data=st.data())
    def add(self, data: st.DataObject) -> None:
        """Add a batch (maybe empty) of pool traces and of traces added before."""
        new = data.draw(st.lists(st.integers(0, len(self.pool) - 1), max_size=5), label="pool indexes")
        batch = [self.pool[i] for i in new]
        if self.added:
            again = data.draw(st.lists(st.integers(0, len(self.added) - 1), max_size=2), label="repeats")
            batch += [self.added[i] for i in again]
            batch = data.draw(st.permutations(batch), label="batch order")
        self.session.store.add(batch)
        self.model.add(batch)
        self.added.extend(batch)

    @precondition(lambda self: bool(self.checks))
    @rule(data=st.data())
    def filter(self, data: st.DataObject) -> None:
        """Ask the store, and check its answer against the model."""
        module = data.draw(st.sampled_from(self.queried_modules), label="module")
        prefix = data.draw(self.prefixes, label="prefix")
        limit = data.draw(_LIMITS, label="limit")
        answer = self.session.keys(module, prefix, limit)  # raising, even for an unknown module, fails
        found = self.model.diagnose(
            module, prefix, 2000 if limit is None else limit, answer, self.kit.ordered_results, self.checks
        )
        assert not found, "\n".join(f"{v.rule}: {v.message}" for v in found)

    @precondition(lambda self: self.reopens)
    @rule()
    def reopen(self) -> None:
        """S10: reopen without closing; every answer stays the same. Where the kit has a connection
        string the reopen is in a new process (``PROCESS_REOPENS`` times a run at most, then with
        ``reopen_store`` in this process, if defined)."""
        other_process = requirements.missing(self.kit, "other_processes") is None
        in_process = not other_process or self.process_reopens >= PROCESS_REOPENS
        if in_process and not requirements.reopens_in_process(self.kit):
            return
        queries: List[Query] = [(m, None, limit) for m in sorted(self.model.modules()) for limit in (None, 1)]
        before = [self.session.keys(*query) for query in queries]
        if in_process:
            self.session.reopen()
            after = [self.session.keys(*query) for query in queries]
        else:
            self.process_reopens += 1
            after = self.kit.reopened_answers(self.session, queries, self.model)
        for query, old, new in zip(queries, before, after):
            if not (self.kit.ordered_results or query[2] == 1):
                old, new = sorted(old), sorted(new)
            assert new == old, (
                f"S10: after reopening{'' if in_process else ' in a new process'}, {describe_query(query)} "
                f"answered {[describe(k) for k in new]}, but before it answered {[describe(k) for k in old]}"
            )

    def teardown(self) -> None:
        self._context.__exit__(None, None, None)


def machine_for(
    kit: KitBase[Any], factory: pytest.TempPathFactory, checks: FrozenSet[str], reopens: bool = False
) -> type[StoreMachine]:
    """A :class:`StoreMachine` subclass bound to ``kit`` that checks ``checks`` (and S10 if ``reopens``)."""
    attributes: Dict[str, Any] = {"kit": kit, "factory": factory, "checks": checks, "reopens": reopens}
    return type(f"{type(kit).__name__}Machine", (StoreMachine,), attributes)
