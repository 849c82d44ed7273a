"""Adversarial module names, qualnames and qualname prefixes (rules S2, S3).

Names mix SQL ``LIKE`` and glob metacharacters (``%``, ``_``, ``*``, ``?``, ``[``),
backslashes, quotes, spaces, non-ASCII letters whose case folds oddly (``ß``, ``İ``),
characters engines mangle (NUL, U+2028, combining accents, code points above U+F8FF and
outside the BMP) and names longer than 255 characters and bytes. Sibling strategies give
sets of names that a store must keep apart: ``a.b`` against ``a.bc``, ``a.b.c``, ``A.B``,
``a_b``, ``"a.b "``, ``"a.b\\x00"``, its other Unicode normal form and its accents stripped.
Module names start with a root that no real module has, so registering them never
shadows a real module.
"""

from __future__ import annotations

import unicodedata
from typing import Callable, List, Optional

from hypothesis import strategies as st

from conformance.strategies.synthetic import is_valid_module_name, is_valid_qualname

__all__ = [
    "ADVERSARIAL_CHARACTERS",
    "METACHARACTER_PREFIXES",
    "MODULE_ROOTS",
    "module_names",
    "name_segments",
    "prefixes_of",
    "qualnames",
    "sibling_module_names",
    "sibling_qualnames",
    "strip_accents",
    "variants",
]

ADVERSARIAL_CHARACTERS = "aAbBzZ_%\\[]*?'\"` -éÉßİı中𝔘\x00\u2028\u0301\uf900\ufffd\t"
"""Characters that trip stores which build patterns, fold case, mangle quotes, cut C strings
(NUL), split lines (U+2028), normalise (a combining accent), or store 3 or 4 bytes (U+F900,
U+1D518)."""

INVISIBLE_SUFFIXES = (" ", "\x00x", "\u2028", "\U0001d518")
"""Suffixes that make a name different in ways a collation or a C string may not see."""

LONG_SIZES = (254, 255, 256, 300)
"""Lengths of long segments: around and past VARCHAR(255)."""

METACHARACTER_PREFIXES = ("%", "_", "\\", "[", "[a]", "*", "?", "'", '"', "%%", "_%", "\x00", " ", "\u2028")
"""Prefixes made only of metacharacters: each is a literal that matches almost nothing."""

MODULE_ROOTS = (
    "tskit",
    "TsKit",
    "tskit_",
    "ts_kit",
    "ts%kit",
    "ts'kit",
    'ts"kit',
    "ts\\kit",
    "ts[k]it",
    "ts*kit?",
    "ts kit",
    "tskït",
)
"""First segments of every generated module name; none is a real module."""


def name_segments(max_size: int = 6) -> st.SearchStrategy[str]:
    """One dot-free segment of a name: adversarial characters, and any other non-NUL character."""
    characters = st.one_of(
        st.sampled_from(ADVERSARIAL_CHARACTERS),
        st.characters(codec="utf-8", exclude_characters="."),
    )
    return st.text(characters, min_size=1, max_size=max_size).filter(lambda s: not s.startswith("__"))


def _long_segments() -> st.SearchStrategy[str]:
    sizes = st.one_of(st.integers(100, 300), st.sampled_from(LONG_SIZES))
    return st.builds(lambda n, c: c * n, sizes, st.sampled_from("xX_%é中𝔘"))


def _segments() -> st.SearchStrategy[str]:
    return st.one_of(name_segments(), name_segments(), name_segments(), _long_segments())


def qualnames(max_depth: int = 3) -> st.SearchStrategy[str]:
    """Qualnames of 1 to ``max_depth`` adversarial segments joined by dots."""
    return st.lists(_segments(), min_size=1, max_size=max_depth).map(".".join).filter(is_valid_qualname)


def module_names(max_depth: int = 2) -> st.SearchStrategy[str]:
    """Module names: a root from ``MODULE_ROOTS`` and up to ``max_depth`` adversarial segments."""
    return st.builds(
        lambda root, rest: ".".join([root, *rest]),
        st.sampled_from(MODULE_ROOTS),
        st.lists(_segments(), max_size=max_depth),
    ).filter(is_valid_module_name)


def strip_accents(name: str) -> str:
    """``name`` without combining marks (what an accent-insensitive collation compares)."""
    decomposed = unicodedata.normalize("NFD", name)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def variants(name: str) -> List[str]:
    """Names a careless store confuses with ``name``: suffixed, extended, case-changed, dots as ``_``,
    with trailing spaces, NUL, U+2028 or an astral character, in the other normal form, unaccented.

    ``name`` itself comes first; the others differ from it and from one another.
    """
    candidates = [
        name,
        name + "c",
        name + ".c",
        name + "_",
        name + "%",
        name.swapcase(),
        name.upper(),
        name.lower(),
        name.casefold(),
        name.replace(".", "_"),
        name.replace("_", "x"),
        name.replace("%", "x"),
        name[:-1],
        name.rpartition(".")[0],
        *(name + suffix for suffix in INVISIBLE_SUFFIXES),
        unicodedata.normalize("NFD", name),
        unicodedata.normalize("NFC", name),
        strip_accents(name),
    ]
    found: List[str] = []
    for candidate in candidates:
        if candidate and candidate not in found:
            found.append(candidate)
    return found


def _siblings(names: st.SearchStrategy[str], valid: Callable[[str], bool]) -> st.SearchStrategy[List[str]]:
    return names.map(lambda name: [v for v in variants(name) if valid(v)])


def sibling_module_names() -> st.SearchStrategy[List[str]]:
    """A module name (first) and its valid :func:`variants`, all distinct."""
    return _siblings(module_names(), is_valid_module_name)


def sibling_qualnames() -> st.SearchStrategy[List[str]]:
    """A qualname (first) and its valid :func:`variants`, all distinct."""
    return _siblings(qualnames(), is_valid_qualname)


def _mangled_prefixes(qualname: str) -> st.SearchStrategy[str]:
    """Prefixes of ``qualname`` and near misses: case-changed, a character swapped for a wildcard."""
    cut = st.integers(0, len(qualname)).map(lambda k: qualname[:k])
    return st.one_of(
        cut,
        cut.map(str.swapcase),
        cut.map(lambda p: unicodedata.normalize("NFD", p)),
        cut.map(strip_accents),
        cut.map(lambda p: p + "\x00"),
        cut.map(lambda p: p + " "),
        cut.map(lambda p: p[:-1] + f"[{p[-1]}]" if p else "[a]"),
        cut.map(lambda p: p + "%"),
        cut.map(lambda p: p + "_"),
        cut.map(lambda p: p[:-1] + "_" if p else "_"),
        cut.map(lambda p: p[:-1] + "%" if p else "%"),
        st.just(qualname + "x"),
    )


def prefixes_of(names: List[str]) -> st.SearchStrategy[Optional[str]]:
    """``qualname_prefix`` arguments for a store holding ``names``: ``None``, ``""``, real prefixes,
    near misses (:func:`_mangled_prefixes`) and bare metacharacters."""
    options: List[st.SearchStrategy[Optional[str]]] = [
        st.none(),
        st.just(""),
        st.sampled_from(METACHARACTER_PREFIXES),
    ]
    if names:
        options.append(st.sampled_from(names).flatmap(_mangled_prefixes))
        options.append(st.sampled_from(names).flatmap(_mangled_prefixes))
    return st.one_of(options)
