"""Checks of ``list_modules`` (S12)."""

from __future__ import annotations

from collections import Counter
from typing import Any, List, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import strategies as cs
from conformance.checks.base import KitBase, StoreT
from conformance.strategies.synthetic import REGISTRY
from tracestore import CallTrace


class _ListModules:
    """Calls ``list_modules``; "not implemented" only while every call, from the first on the empty
    store, raises ``NotImplementedError``. Any other exception, or a change of mind, fails S12."""

    def __init__(self) -> None:
        self.implemented: Optional[bool] = None

    def __call__(self, store: Any, state: str) -> Optional[List[str]]:
        """The modules listed, or ``None`` while ``list_modules`` is not implemented."""
        try:
            modules: List[str] = list(store.list_modules())
        except NotImplementedError as exc:
            if self.implemented:
                raise AssertionError(
                    f"S12: list_modules() on {state} store raised NotImplementedError ({exc}) after it "
                    "worked on the empty store: a list_modules that is not implemented raises on every call"
                ) from exc
            self.implemented = False
            return None
        except Exception as exc:
            raise AssertionError(
                f"S12: list_modules() on {state} store raised {type(exc).__name__}: {exc}"
            ) from exc
        if self.implemented is False:
            raise AssertionError(
                f"S12: list_modules() raised NotImplementedError on the empty store, then on {state} store "
                f"returned {modules!r}: a list_modules that is not implemented raises on every call"
            )
        self.implemented = True
        return modules


class ModuleChecks(KitBase[StoreT]):
    @pytest.mark.rule("S12")
    def test_S12_list_modules_lists_each_module_once(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S12: list_modules gives each module with a stored trace exactly once (and [] when empty)."""
        list_modules = _ListModules()
        with self.fresh_store(tmp_path_factory) as session:
            got = list_modules(session.store, "an empty")
            assert got in ([], None), f"S12: list_modules() of an empty store gave {got!r}"

        @self.hypothesis_settings()
        @given(modules=cs.sibling_module_names(), repeats=st.lists(st.integers(1, 4), min_size=1, max_size=6))
        def check(modules: List[str], repeats: List[int]) -> None:
            chosen = modules[: len(repeats)]
            with self.fresh_store(tmp_path_factory) as session:
                for module, times in zip(chosen, repeats):
                    func = REGISTRY.function(module, "f")
                    for i in range(times):
                        session.store.add([CallTrace(func, {f"a{i}": int}, int), CallTrace(func, {}, str)])
                got = list_modules(session.store, "a non-empty")
                if got is None:
                    return
                duplicated = sorted(m for m, n in Counter(got).items() if n > 1)
                assert not duplicated, f"S12: list_modules() lists {duplicated!r} more than once"
                assert sorted(got) == sorted(chosen), (
                    f"S12: list_modules() must give exactly {sorted(chosen)!r}, not {sorted(got)!r}"
                )

        check()
        if not list_modules.implemented:
            pytest.skip(
                "S12 not checked: list_modules() raised NotImplementedError on every call; "
                "S12 applies where it is implemented"
            )

    @pytest.mark.rule("S12")
    def test_S12_list_modules_again_after_add(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S12: list_modules asked, then asked again after more adds, lists every module (25 of them,
        more than one page of a SCAN, some differing only in case, spaces, NUL or normal form), each once."""
        lookalikes = ["m", "M", "m ", "\u00e9", "e\u0301", "m\x00"]
        modules = [f"tskit.s12.{m}" for m in lookalikes] + [f"tskit.s12.m{i:02d}" for i in range(19)]
        list_modules = _ListModules()
        with self.fresh_store(tmp_path_factory) as session:
            if list_modules(session.store, "an empty") is None:
                pytest.skip("S12 not checked: list_modules() raised NotImplementedError on the empty store")
            for count in (1, 3, 25):
                for module in modules[:count]:
                    session.store.add([CallTrace(REGISTRY.function(module, "f"), {"a": int}, int)])
                got = list_modules(session.store, f"a {count}-module") or []
                missing, extra = sorted(set(modules[:count]) - set(got)), sorted(set(got) - set(modules))
                assert sorted(got) == sorted(modules[:count]), (
                    f"S12: after adding traces of {count} modules, list_modules() gave {len(got)}: "
                    f"missing {missing!r}, extra {extra!r}"
                )
