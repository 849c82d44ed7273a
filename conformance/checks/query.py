"""Checks of what ``filter`` selects: exact modules (S2), literal prefixes (S3) and limits (S4)."""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance import strategies as cs
from conformance.checks.base import KitBase, StoreSession, StoreT
from conformance.model import RowKey
from conformance.sample_functions import generator_function, module_function
from conformance.strategies.synthetic import REGISTRY
from tracestore import CallTrace

S2_ROOT = "tskit.s2"
S2_MODULES = ("a.b", "a.bc", "a.b.c", "A.B", "a_b", "aXb", "a%b", "A_B", "a.b%", "a[b]", "a\\b", "a.b_")
S2_UNKNOWN = ("a", "a%", "%", "_", "a_", "a.b.", "a.b*", "a?b", "a.%", "A.b", "a.B", "*")

S3_MODULE = "tskit.s3"
S3_QUALNAMES = (
    "ab", "a_b", "aXb", "a%b", "aZZb", "A_b", "Ab", "a\\b", "a[b]", "ab]", "a*b", "a?b", "a'b", 'a"b',
    "foo", "Foo.bar", "FOO", "foo.bar", "fooBar", "ß", "SS", "ss", "İ", "i",
)  # fmt: skip
S3_PREFIXES = (
    "a_", "a%", "a", "A", "a[", "a[b", "a\\", "a*", "a?", "a'", 'a"', "%", "_", "[", "\\", "*", "?",
    "foo", "Foo", "FOO", "foo.", "ß", "ss", "SS", "İ", "i", "ab]", "a%b", "a_b",
)  # fmt: skip

_NFC_E, _NFD_E = "\u00e9", "e\u0301"
S2_LOOKALIKES = (
    "a.b", "a.b ", "a.b  ", "a.b\t", "a.b\x00", "a.b\x00c", "a.b\u2028", "a.b\U0001d518", "a.b\uf900",
    f"{_NFC_E}t{_NFC_E}", f"{_NFD_E}t{_NFD_E}", "ete", "Ete", "x" * 191 + "a", "x" * 191 + "b",
    "y" * 255 + "a", "y" * 255 + "b", "\u00e9" * 128 + "a", "\u00e9" * 128 + "b",
)  # fmt: skip
"""Module names (below ``S2_ROOT``) that differ only where collations, C strings, utf8mb3 or
column widths do not look: trailing whitespace, NUL, U+2028, astral characters, normal forms,
accents, and what follows the 191st or 255th character (or 255th byte)."""

S3_LOOKALIKE_QUALNAMES = (
    "ab", "a b", "ab ", "a\x00b", "a\x00c", "a\u2028b", "a\U0001d518b", f"{_NFC_E}x", f"{_NFD_E}y", "ex",
    "a[b]c", "[a]b", "Ab", "AB",
)  # fmt: skip
S3_LOOKALIKE_PREFIXES = (
    "a\x00", "a\x00b", "a\x00zz", "a\u2028", "a\U0001d518", _NFC_E, _NFD_E, "e", "a[b]", "[a]", "[ab]",
    "a[^x]", "ab ", "a ", "a\U0001d518b", "ab", "A",
)  # fmt: skip
"""Qualnames and prefixes that differ only in NUL, U+2028, astral characters, normal forms,
accents, trailing spaces and T-SQL's ``[...]`` wildcard."""

HUGE_LIMITS = (2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**30)
"""Limits at and past the widths of 32- and 64-bit integers: S4 says min(limit, matches)."""

MANY = 10_500
"""Matching traces in the large S3/S4 example: past 10,000 (search engines' result window),
and well over 1 MB of rows (a DynamoDB page)."""


S3_METACHARACTERS = "%_*?[]\\'\""


def _trace(func: Callable[..., Any], tag: str = "x") -> CallTrace:
    return CallTrace(func, {tag: int}, str)


def _names(keys: Sequence[RowKey]) -> List[str]:
    return sorted(f"{k[0]}:{k[1]}" for k in keys)


class QueryChecks(KitBase[StoreT]):
    # -- S2 ----------------------------------------------------------------------

    def _check_modules(
        self, session: StoreSession[StoreT], modules: Sequence[str], unknown: Sequence[str], qualname: str
    ) -> None:
        session.store.add([_trace(REGISTRY.function(m, qualname)) for m in modules])
        for module in modules:
            got = session.keys(module)
            assert [k[0] for k in got] == [module], (
                f"S2: filter({module!r}) must return the one trace of module {module!r}, not {_names(got)}"
            )
        for module in unknown:
            if module in modules:
                continue
            got = session.keys(module)  # an exception fails S2 too: an unknown module answers [] (S8)
            assert got == [], f"S2: filter({module!r}) for a module without traces returned {_names(got)}"

    @pytest.mark.rule("S2")
    def test_S2_module_is_exact(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S2: a module never matches its extensions, case variants or wildcard look-alikes."""
        with self.fresh_store(tmp_path_factory) as session:
            modules = [f"{S2_ROOT}.{m}" for m in S2_MODULES]
            unknown = [f"{S2_ROOT}.{m}" for m in S2_UNKNOWN] + [S2_ROOT, "TSKIT.S2.A.B", "tskit.s2.A.b"]
            self._check_modules(session, modules, unknown, "f")

    @pytest.mark.rule("S2")
    def test_S2_names_that_differ_only_in_invisible_ways(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """S2: trailing whitespace, NUL, U+2028, astral characters, normal forms, accents and what
        follows the 191st/255th character all make a module name different."""
        with self.fresh_store(tmp_path_factory) as session:
            modules = [f"{S2_ROOT}.{m}" for m in S2_LOOKALIKES]
            self._check_modules(session, modules, [f"{S2_ROOT}.a.b\x00d", f"{S2_ROOT}.et{_NFD_E}"], "f")

    @pytest.mark.rule("S2")
    def test_S2_adversarial_module_names(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S2: exact module matching holds for unicode, quotes, metacharacters and long names."""

        @self.hypothesis_settings()
        @given(modules=cs.sibling_module_names(), qualname=cs.qualnames())
        def check(modules: List[str], qualname: str) -> None:
            with self.fresh_store(tmp_path_factory) as session:
                known, unknown = modules[: max(1, len(modules) - 2)], modules[max(1, len(modules) - 2) :]
                self._check_modules(session, known, unknown, qualname)

        check()

    # -- S3 ----------------------------------------------------------------------

    def _check_prefixes(
        self, session: StoreSession[StoreT], module: str, qualnames: Sequence[str], prefixes: Sequence[Any]
    ) -> None:
        session.store.add([_trace(REGISTRY.function(module, q)) for q in qualnames])
        for prefix in prefixes:
            if self._declared_away(prefix, qualnames):
                continue
            expected = sorted(q for q in set(qualnames) if q.startswith(prefix or ""))
            got = sorted(k[1] for k in session.keys(module, prefix))
            assert got == expected, (
                f"S3: filter({module!r}, {prefix!r}) must return exactly the qualnames that "
                f"str.startswith({prefix!r}): expected {expected}, got {got}"
            )

    def _declared_away(self, prefix: Optional[str], qualnames: Sequence[str]) -> bool:
        """Whether the answer for ``prefix`` hangs on a clause of S3 declared alone (S3.case:
        a case variant of a qualname matches or not; S3.wildcards: a metacharacter in ``prefix``)."""
        if not prefix:
            return False
        if self.declared_apart("S3.wildcards") and any(c in prefix for c in S3_METACHARACTERS):
            return True
        folds = (str.lower, str.upper, str.casefold)
        return self.declared_apart("S3.case") and any(
            q.startswith(prefix) != fold(q).startswith(fold(prefix)) for q in qualnames for fold in folds
        )

    @pytest.mark.rule("S3.wildcards")
    def test_S3_prefix_is_literal(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S3: %, _, [, \\, *, ? and quotes in a prefix are plain characters, and case counts."""
        with self.fresh_store(tmp_path_factory) as session:
            self._check_prefixes(session, S3_MODULE, S3_QUALNAMES, S3_PREFIXES)

    @pytest.mark.rule("S3.case")
    def test_S3_prefix_is_case_sensitive(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S3: "foo" does not match "Foo.bar", nor "foo." match "FOO.x"."""
        with self.fresh_store(tmp_path_factory) as session:
            self._check_prefixes(session, S3_MODULE + ".case", ["Foo.bar", "FOO.x", "foo.y"], ["foo", "foo."])

    @pytest.mark.rule("S3")
    def test_S3_prefixes_that_differ_only_in_invisible_ways(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """S3: NUL, U+2028, astral characters, normal forms, accents, trailing spaces and ``[...]``
        in a prefix are compared as they are."""
        with self.fresh_store(tmp_path_factory) as session:
            self._check_prefixes(
                session, S3_MODULE + ".lookalikes", S3_LOOKALIKE_QUALNAMES, S3_LOOKALIKE_PREFIXES
            )

    @pytest.mark.rule("S3")
    def test_S3_adversarial_prefixes(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S3: generated qualnames and near-miss prefixes match exactly as str.startswith."""

        @self.hypothesis_settings()
        @given(data=st.data(), module=cs.module_names(), names=cs.sibling_qualnames())
        def check(data: st.DataObject, module: str, names: List[str]) -> None:
            prefixes = data.draw(st.lists(cs.prefixes_of(names), min_size=1, max_size=4), label="prefixes")
            with self.fresh_store(tmp_path_factory) as session:
                self._check_prefixes(session, module, names, prefixes)

        check()

    # -- S4 ----------------------------------------------------------------------

    @pytest.mark.rule("S4")
    def test_S4_limit_caps_results(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S4: filter returns min(limit, number of matching traces) results."""

        @self.hypothesis_settings()
        @given(
            count=st.integers(1, 25),
            repeated=st.integers(0, 5),
            limits=st.lists(st.integers(0, 30) | st.sampled_from(HUGE_LIMITS), min_size=1, max_size=5),
        )
        def check(count: int, repeated: int, limits: List[int]) -> None:
            module = module_function.__module__
            traces = [_trace(module_function, f"a{i}") for i in range(count)]
            # Traces added three times are one result each (S6), or three where duplicates are kept;
            # newest first, their copies stand inside the first `limit` rows of the history.
            matching = count if self.distinct_results else count + 2 * min(repeated, count)
            with self.fresh_store(tmp_path_factory) as session:
                for batch in (traces, traces[:repeated], traces[:repeated]):
                    session.store.add(batch)
                for limit in [*limits, matching, matching - 1, matching + 1]:
                    if limit >= 0:
                        self._check_count(session, module, None, limit, matching)

        check()

    @pytest.mark.rule("S4")
    def test_S4_limit_counts_only_prefix_matches(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S4: with a prefix, the limit counts the matching traces only, not the module's others."""

        @self.hypothesis_settings()
        @given(
            matching=st.integers(1, 12),
            others=st.integers(1, 12),
            limits=st.lists(st.integers(1, 30), min_size=1, max_size=5),
        )
        def check(matching: int, others: int, limits: List[int]) -> None:
            module = module_function.__module__
            with self.fresh_store(tmp_path_factory) as session:
                # Newest first, the module's traces alternate between matching and not.
                for i in range(max(matching, others)):
                    batch = [_trace(generator_function, f"g{i}")] if i < others else []
                    batch += [_trace(module_function, f"m{i}")] if i < matching else []
                    session.store.add(batch)
                for limit in [*limits, matching, matching + 1]:
                    self._check_count(session, module, "module_", limit, matching)

        check()

    def _check_count(
        self, session: StoreSession[StoreT], module: str, prefix: Optional[str], limit: int, matching: int
    ) -> None:
        got = len(session.store.filter(module, prefix, limit))
        assert got == min(limit, matching), (
            f"S4: filter({module!r}, {prefix!r}, {limit}) with {matching} matching traces "
            f"returned {got} results, not {min(limit, matching)}"
        )

    @pytest.mark.rule("S4")
    def test_S4_huge_limits_give_every_match(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S4: limits of 2**31, 2**63, 2**64, 10**30 ... give every match (no overflow, no error)."""
        module = module_function.__module__
        with self.fresh_store(tmp_path_factory) as session:
            session.store.add([_trace(module_function, f"a{i}") for i in range(3)])
            for limit in HUGE_LIMITS:
                for prefix in (None, "module"):
                    self._check_count(session, module, prefix, limit, 3)

    @pytest.mark.rule("S3", "S4")
    def test_S3_S4_more_than_ten_thousand_matches(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S4: 10,500 matches (past a 10,000 result window) come back for a limit that large; S3:
        the one match of a prefix is found behind 10,500 newer rows (past a 1 MB page)."""
        module = module_function.__module__
        with self.fresh_store(tmp_path_factory) as session:
            session.store.add([_trace(generator_function, "old")])
            session.store.add([_trace(module_function, f"a{i}") for i in range(MANY)])
            got = [k[1] for k in session.keys(module, "generator_")]
            assert got == [generator_function.__qualname__], (
                f"S3: filter({module!r}, 'generator_') must find the one generator_function trace behind "
                f"{MANY} newer traces of module_function, not {got}"
            )
            if not self._declared_away("GENERATOR_", [generator_function.__qualname__]):
                got = [k[1] for k in session.keys(module, "GENERATOR_")]
                assert got == [], (
                    f"S3: filter({module!r}, 'GENERATOR_') must find nothing (case counts), not {got}"
                )
            for limit in (10_001, MANY, 2**63, 10**30):
                self._check_count(session, module, None, limit, MANY + 1)
            self._check_count(session, module, "module_", 2**63, MANY)

    @pytest.mark.rule("S4")
    def test_S4_limit_zero_gives_empty(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S4: limit=0 gives [] (with and without a prefix)."""
        module = module_function.__module__
        with self.fresh_store(tmp_path_factory) as session:
            session.store.add([_trace(module_function, f"a{i}") for i in range(3)])
            for prefix in (None, "", "module"):
                got = list(session.store.filter(module, prefix, 0))
                assert got == [], f"S4: filter({module!r}, {prefix!r}, 0) returned {len(got)} results"

    @pytest.mark.rule("S4.default")
    def test_S4_default_limit_is_2000(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S4: without a limit, filter returns at most 2000 results (and 2000 of 2001)."""
        module = module_function.__module__
        with self.fresh_store(tmp_path_factory) as session:
            session.store.add([_trace(module_function, f"a{i}") for i in range(2001)])
            got = len(session.store.filter(module))
            assert got == 2000, f"S4: filter({module!r}) with 2001 matching traces returned {got}, not 2000"
            got = len(session.store.filter(module, "module_"))
            assert got == 2000, f"S4: filter({module!r}, 'module_') with 2001 matches returned {got}"

    @pytest.mark.rule("S4.negative")
    def test_S4_negative_limit_raises_value_error(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S4: a negative limit raises ValueError (with and without a prefix)."""
        module = module_function.__module__
        with self.fresh_store(tmp_path_factory) as session:
            session.store.add([_trace(module_function, f"a{i}") for i in range(3)])
            for limit in (-1, -2, -2000):
                for prefix in (None, "module"):
                    with pytest.raises(ValueError):
                        result = session.store.filter(module, prefix, limit)
                        pytest.fail(
                            f"S4: filter({module!r}, {prefix!r}, {limit}) returned {len(result)} results "
                            "instead of raising ValueError"
                        )
