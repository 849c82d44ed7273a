"""The kit's strategies reach the input classes that real engines get wrong (issue 9)."""

from __future__ import annotations

import unicodedata
from typing import Callable, Optional

import pytest
from hypothesis import find, settings

from conformance import strategies as cs
from conformance.checks.query import HUGE_LIMITS, S2_LOOKALIKES
from conformance.strategies.names import INVISIBLE_SUFFIXES, strip_accents

NFD_E = "e\u0301"
SEARCH = settings(max_examples=1000, database=None, derandomize=True)


def test_variants_hold_every_look_alike_class() -> None:
    name = "tskit.caf\u00e9"
    found = cs.variants(name)
    for suffix in INVISIBLE_SUFFIXES:
        assert name + suffix in found
    assert unicodedata.normalize("NFD", name) in found and strip_accents(name) == "tskit.cafe" in found
    assert len(set(found)) == len(found)


@pytest.mark.parametrize(
    ("what", "condition"),
    [
        ("trailing space", lambda n: n.endswith(" ")),
        ("NUL", lambda n: "\x00" in n),
        ("U+2028", lambda n: "\u2028" in n),
        ("outside the BMP", lambda n: any(ord(c) > 0xFFFF for c in n)),
        ("NFD", lambda n: unicodedata.normalize("NFC", n) != n),
        ("over 255 characters", lambda n: len(n) > 255),
        ("over 255 UTF-8 bytes, at most 255 characters", lambda n: len(n) <= 255 < len(n.encode("utf-8"))),
    ],
)
def test_generated_module_siblings_reach(what: str, condition: Callable[[str], bool]) -> None:
    find(cs.sibling_module_names(), lambda names: any(condition(n) for n in names), settings=SEARCH)


@pytest.mark.parametrize(
    ("what", "condition"),
    [
        ("NUL", lambda p: p is not None and "\x00" in p),
        ("NFD", lambda p: p is not None and NFD_E in unicodedata.normalize("NFD", p) and "\u0301" in p),
        ("a [..] class", lambda p: p is not None and "[" in p and "]" in p),
        ("trailing space", lambda p: p is not None and p.endswith(" ")),
    ],
)
def test_generated_prefixes_reach(what: str, condition: Callable[[Optional[str]], bool]) -> None:
    names = ["caf\u00e9.x", "ab"]
    find(cs.prefixes_of(names), condition, settings=SEARCH)


def test_fixed_cases_cover_what_generation_may_miss() -> None:
    assert any(len(m) > 191 for m in S2_LOOKALIKES) and any(m.endswith(" ") for m in S2_LOOKALIKES)
    assert {2**63, 2**64, 10**30} <= set(HUGE_LIMITS)
