"""Checks of which traces win and how they are listed: recency (S5), distinctness (S6), order (S15).

None of them depends on the clock: traces are added in quick succession, in
separate ``add`` calls, so a store that orders by day or by second cannot pass.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.checks.base import KitBase, StoreSession, StoreT
from conformance.model import HistoryModel, describe, trace_key
from conformance.requirements import requires
from conformance.sample_functions import FUNCTIONS, module_function
from tracestore import CallTrace

_ARG_TYPES: List[Dict[str, Any]] = [{"a": int}, {"a": str}, {"b": int}, {}]
POOL_TRACES = st.builds(
    CallTrace,
    st.sampled_from(FUNCTIONS[:5]),
    st.sampled_from(_ARG_TYPES),
    st.sampled_from([None, int, str]),
    st.sampled_from([None, None, int]),
)
"""A pool of 120 traces: histories drawn from it repeat traces often, and some differ only in
their yield type."""
HISTORIES = st.lists(st.lists(POOL_TRACES, min_size=1, max_size=6), min_size=1, max_size=6)
PREFIXES = (None, "", "Point", "Point.", "module_", "g")
LIMITS = (0, 1, 2, 3, 5, 8, 2000)


def ladder(count: int) -> List[CallTrace]:
    """``count`` traces of one function whose rows sort in the order of their index."""
    return [CallTrace(module_function, {f"k{i:02d}": int}, int) for i in range(count)]


class RecencyChecks(KitBase[StoreT]):
    def _diagnose_all(
        self, session: StoreSession[StoreT], model: HistoryModel, rule: str, limits: Sequence[int] = LIMITS
    ) -> None:
        problems: List[str] = []
        for module in sorted(model.modules()):
            for prefix in PREFIXES:
                for limit in limits:
                    answer = session.keys(module, prefix, limit)
                    found = model.diagnose(module, prefix, limit, answer, self.ordered_results, [rule])
                    problems.extend(v.message for v in found)
        assert not problems, f"{rule}: " + "\n".join(problems[:5])

    def _check_history(
        self, factory: pytest.TempPathFactory, history: List[List[CallTrace]], rule: str
    ) -> None:
        model = HistoryModel(self.distinct_results)
        with self.fresh_store(factory) as session:
            for batch in history:
                session.store.add(batch)
                model.add(batch)
            self._diagnose_all(session, model, rule)

    # -- S5 ----------------------------------------------------------------------

    @pytest.mark.rule("S5")
    def test_S5_most_recent_win(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S5: for every module, prefix and limit, the results are the most recent matches."""

        @self.hypothesis_settings()
        @given(history=HISTORIES)
        def check(history: List[List[CallTrace]]) -> None:
            self._check_history(tmp_path_factory, history, "S5")

        check()

    def _check_ladder(
        self, factory: pytest.TempPathFactory, order: List[CallTrace], one_call: bool, rule: str
    ) -> None:
        model = HistoryModel(self.distinct_results)
        with self.fresh_store(factory) as session:
            batches = [order] if one_call else [[t] for t in order]
            for batch in batches:
                session.store.add(batch)
                model.add(batch)
                if not one_call:
                    self._diagnose_all(session, model, rule, limits=(1,))
            self._diagnose_all(session, model, rule, limits=range(len(order) + 1))

    @pytest.mark.rule("S5")
    def test_S5_recency_without_clock(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S5: traces added one call after another in the same second: the latest win."""
        traces = ladder(5)
        for order in (traces, traces[::-1], traces[1::2] + traces[0::2]):
            self._check_ladder(tmp_path_factory, order, one_call=False, rule="S5")

    @pytest.mark.rule("S5")
    def test_S5_order_within_one_add_call(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S5: inside one add call, iteration order counts: later traces are more recent."""
        traces = ladder(5)
        for order in (traces, traces[::-1]):
            self._check_ladder(tmp_path_factory, order, one_call=True, rule="S5")

    @pytest.mark.rule("S5")
    @requires("reopen", "S5 (across a reopen)")
    def test_S5_recency_across_reopen_then_more_adds(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S5: traces added through a reopened store are more recent than those added before it."""
        traces = ladder(6)
        model = HistoryModel(self.distinct_results)
        with self.fresh_store(tmp_path_factory) as session:
            for batch in ([traces[0]], [traces[1], traces[2]]):
                session.store.add(batch)
                model.add(batch)
            for batch in ([traces[3]], [traces[4], traces[5]], [traces[0]]):
                session.reopen()
                session.store.add(batch)
                model.add(batch)
                self._diagnose_all(session, model, "S5", limits=(1, 2, 3))

    # -- S6 ----------------------------------------------------------------------

    @pytest.mark.rule("S6")
    def test_S6_distinct_results(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S6: no two results are equal rows (or, with distinct_results False, every duplicate counts)."""

        @self.hypothesis_settings()
        @given(history=HISTORIES)
        def check(history: List[List[CallTrace]]) -> None:
            self._check_history(tmp_path_factory, history, "S6")

        check()

    @pytest.mark.rule("S6")
    def test_S6_repeated_trace_counted_as_declared(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S6: one trace added five times (in one call and in three) is one result, or five."""
        trace = ladder(1)[0]
        expected = 1 if self.distinct_results else 5
        with self.fresh_store(tmp_path_factory) as session:
            for batch in ([trace, trace, trace], [trace], [trace]):
                session.store.add(batch)
            got = session.keys(module_function.__module__)
            assert got == [trace_key(trace)] * expected, (
                f"S6: a trace added 5 times must come back {expected} time(s) "
                f"(distinct_results={self.distinct_results}), not {len(got)}"
            )

    @pytest.mark.rule("S6")
    def test_S6_readded_trace_counts_at_latest_position(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """S6: a trace added again is as recent as its latest add (never its first)."""
        first, *rest = ladder(4)
        for history in ([[first], *[[t] for t in rest], [first]], [[first, *rest], [first]]):
            self._check_history(tmp_path_factory, history, "S6")
            with self.fresh_store(tmp_path_factory) as session:
                for batch in history:
                    session.store.add(batch)
                got = session.keys(module_function.__module__, None, 1)
                assert not got or trace_key(first) in got, (  # an empty answer is S4's business
                    f"S6: the trace added last was added before too; filter(..., limit=1) must return it, "
                    f"not {[describe(k) for k in got]}"
                )

    # -- S15 ---------------------------------------------------------------------

    @pytest.mark.rule("S15")
    @requires("ordered_results", "S15")
    def test_S15_most_recent_first(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S15: results are listed most recent first, for every module, prefix and limit."""

        @self.hypothesis_settings()
        @given(history=HISTORIES)
        def check(history: List[List[CallTrace]]) -> None:
            self._check_history(tmp_path_factory, history, "S15")

        check()

    @pytest.mark.rule("S15")
    @requires("ordered_results", "S15")
    def test_S15_order_without_clock(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S15: traces added in quick succession are listed newest first, whatever their content."""
        traces = ladder(5)
        for order in (traces, traces[::-1], traces[1::2] + traces[0::2]):
            for one_call in (False, True):
                with self.fresh_store(tmp_path_factory) as session:
                    for batch in [order] if one_call else [[t] for t in order]:
                        session.store.add(batch)
                    got = session.keys(module_function.__module__)
                    want = [trace_key(t) for t in reversed(order)]
                    assert got == want, (
                        f"S15: expected newest first {[describe(k) for k in want]}, "
                        f"got {[describe(k) for k in got]}"
                    )
