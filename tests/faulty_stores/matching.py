"""Faulty stores that match the wrong traces: module (S2) and qualname prefix (S3)."""

from __future__ import annotations

import fnmatch
from typing import ClassVar, FrozenSet

from tests.faulty_stores.baseline import BaselineStore


def like_to_glob(pattern: str) -> str:
    """SQL ``LIKE`` semantics (``%`` any run, ``_`` any one character) as an ``fnmatch`` pattern.

    (``fnmatch`` compiles ``*`` without catastrophic backtracking, unlike a naive regex.)
    """
    glob = {"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}
    return "".join(glob.get(c, c) for c in pattern)


class ModulePrefixStore(BaselineStore):
    """S2: ``filter("a.b")`` also returns ``a.bc`` and ``a.b.c`` (``startswith`` on the module)."""

    breaks: ClassVar[str] = "S2"
    # S8 asks a non-empty store for a prefix of its stored module and gets that module's traces.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S8"})

    def _module_matches(self, stored: str, wanted: str) -> bool:
        return stored.startswith(wanted)


class ModuleCaseInsensitiveStore(BaselineStore):
    """S2: the module is compared case-folded, so ``filter("a.b")`` returns ``A.B``."""

    breaks: ClassVar[str] = "S2"
    # S8 asks a non-empty store for its stored module in upper case and gets that module's traces.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S8"})

    def _module_matches(self, stored: str, wanted: str) -> bool:
        return stored.casefold() == wanted.casefold()


class ModuleLikeStore(BaselineStore):
    """S2: the module is matched with SQL ``LIKE`` (case-sensitive): ``_`` matches any character."""

    breaks: ClassVar[str] = "S2"

    def _module_matches(self, stored: str, wanted: str) -> bool:
        return fnmatch.fnmatchcase(stored, like_to_glob(wanted))


class PrefixLikeWildcardStore(BaselineStore):
    """S3: the prefix is a case-sensitive SQL ``LIKE`` pattern: ``%`` and ``_`` are wildcards."""

    breaks: ClassVar[str] = "S3"

    def _prefix_matches(self, qualname: str, prefix: str) -> bool:
        return fnmatch.fnmatchcase(qualname, like_to_glob(prefix) + "*")


class PrefixCaseFoldedStore(BaselineStore):
    """S3: the prefix is literal but compared case-folded, so ``"foo"`` matches ``"Foo.bar"``."""

    breaks: ClassVar[str] = "S3"

    def _prefix_matches(self, qualname: str, prefix: str) -> bool:
        return qualname.casefold().startswith(prefix.casefold())


class PrefixGlobStore(BaselineStore):
    """S3: the prefix is a shell glob (``fnmatchcase(qualname, prefix + "*")``): ``*?[`` are special."""

    breaks: ClassVar[str] = "S3"

    def _prefix_matches(self, qualname: str, prefix: str) -> bool:
        return fnmatch.fnmatchcase(qualname, prefix + "*")


class PrefixSubstringStore(BaselineStore):
    """S3: the "prefix" may occur anywhere in the qualname (``in`` instead of ``startswith``)."""

    breaks: ClassVar[str] = "S3"

    def _prefix_matches(self, qualname: str, prefix: str) -> bool:
        return prefix in qualname


class PrefixWholeComponentStore(BaselineStore):
    """S3: the prefix matches whole dotted components only, so ``"Foo"`` misses ``"Foobar.baz"``."""

    breaks: ClassVar[str] = "S3"
    # S4 counts the matches of the prefix 'module_', which is not a whole component.
    # The kit's newer inputs (look-alike names, huge limits, prefixes after names vanish) also fail S1, S9.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S1", "S4", "S9"})

    def _prefix_matches(self, qualname: str, prefix: str) -> bool:
        return not prefix or qualname == prefix or qualname.startswith(prefix.rstrip(".") + ".")
