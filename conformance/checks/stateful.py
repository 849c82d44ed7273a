"""Stateful model tests: one run of :mod:`conformance.stateful`'s machine per rule it checks.

Each test fails on the violations of its own rule (the model diagnoses each answer), and on
any exception from the store.
"""

from __future__ import annotations

from typing import Callable

import hypothesis.stateful
import pytest

from conformance.checks.base import KitBase, StoreT
from conformance.requirements import requires
from conformance.stateful import machine_for

# Typed here: older Hypothesis releases (the last for Python 3.9) leave it unannotated, and a
# user's ``mypy --strict`` follows the mixin into this module.
_run_state_machine_as_test: Callable[..., None] = hypothesis.stateful.run_state_machine_as_test


class StatefulChecks(KitBase[StoreT]):
    def _run_machine(self, factory: pytest.TempPathFactory, rule: str, reopens: bool = False) -> None:
        checks = frozenset() if reopens else frozenset({rule})
        machine = machine_for(self, factory, checks, reopens=reopens)
        _run_state_machine_as_test(machine, settings=self.hypothesis_settings(stateful=True))

    @pytest.mark.rule("S4")
    def test_S4_stateful_model(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S4: through interleaved adds and filters, each answer has min(limit, matches) results."""
        self._run_machine(tmp_path_factory, "S4")

    @pytest.mark.rule("S5")
    def test_S5_stateful_model(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S5: through interleaved adds (with repeats) and filters, the most recent matches win."""
        self._run_machine(tmp_path_factory, "S5")

    @pytest.mark.rule("S6")
    def test_S6_stateful_model(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S6: through interleaved adds and filters, results are distinct (or duplicates counted)."""
        self._run_machine(tmp_path_factory, "S6")

    @pytest.mark.rule("S15")
    @requires("ordered_results", "S15")
    def test_S15_stateful_model(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S15: through interleaved adds and filters, results are listed most recent first."""
        self._run_machine(tmp_path_factory, "S15")

    @pytest.mark.rule("S10")
    @requires("reopen", "S10")
    def test_S10_stateful_reopen(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S10: reopening at any point between adds changes no answer."""
        self.require_reopen(tmp_path_factory)
        self._run_machine(tmp_path_factory, "S10", reopens=True)
