"""Checks of ``list_modules`` (S12)."""

from __future__ import annotations

from collections import Counter
from typing import Any, List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import strategies as cs
from conformance.checks.base import KitBase, StoreT
from conformance.strategies.synthetic import REGISTRY
from tracestore import CallTrace


class ModuleChecks(KitBase[StoreT]):
    def _list_modules(self, store: Any) -> List[str]:
        try:
            modules: List[str] = store.list_modules()
        except NotImplementedError as exc:
            pytest.skip(
                f"S12 not checked: list_modules() is not implemented ({exc}); S12 applies where it is"
            )
        return modules

    @pytest.mark.rule("S12")
    def test_S12_list_modules_lists_each_module_once(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S12: list_modules gives each module with a stored trace exactly once (and [] when empty)."""
        with self.fresh_store(tmp_path_factory) as session:
            got = self._list_modules(session.store)
            assert got == [], f"S12: list_modules() of an empty store gave {got!r}"

        @self.hypothesis_settings()
        @given(modules=cs.sibling_module_names(), repeats=st.lists(st.integers(1, 4), min_size=1, max_size=6))
        def check(modules: List[str], repeats: List[int]) -> None:
            chosen = modules[: len(repeats)]
            with self.fresh_store(tmp_path_factory) as session:
                for module, times in zip(chosen, repeats):
                    func = REGISTRY.function(module, "f")
                    for i in range(times):
                        session.store.add([CallTrace(func, {f"a{i}": int}, int), CallTrace(func, {}, str)])
                got = self._list_modules(session.store)
                duplicated = sorted(m for m, n in Counter(got).items() if n > 1)
                assert not duplicated, f"S12: list_modules() lists {duplicated!r} more than once"
                assert sorted(got) == sorted(chosen), (
                    f"S12: list_modules() must give exactly {sorted(chosen)!r}, not {sorted(got)!r}"
                )

        check()

    @pytest.mark.rule("S12")
    def test_S12_list_modules_again_after_add(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S12: list_modules asked, then asked again after more adds, lists every module (25 of them,
        more than one page of a SCAN, some differing only in case, spaces, NUL or normal form), each once."""
        lookalikes = ["m", "M", "m ", "\u00e9", "e\u0301", "m\x00"]
        modules = [f"tskit.s12.{m}" for m in lookalikes] + [f"tskit.s12.m{i:02d}" for i in range(19)]
        with self.fresh_store(tmp_path_factory) as session:
            for count in (1, 3, 25):
                for module in modules[:count]:
                    session.store.add([CallTrace(REGISTRY.function(module, "f"), {"a": int}, int)])
                got = self._list_modules(session.store)
                missing, extra = sorted(set(modules[:count]) - set(got)), sorted(set(got) - set(modules))
                assert sorted(got) == sorted(modules[:count]), (
                    f"S12: after adding traces of {count} modules, list_modules() gave {len(got)}: "
                    f"missing {missing!r}, extra {extra!r}"
                )
