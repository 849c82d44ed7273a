"""Realistic faults of collations and pattern matching (S2, S3): what engines call "equal"."""

from __future__ import annotations

import re
import unicodedata
from typing import ClassVar, FrozenSet

from tests.faulty_stores.baseline import BaselineStore


def strip_accents(text: str) -> str:
    """``text`` without combining marks (ICU's primary strength ignores them)."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


class PadSpaceModuleStore(BaselineStore):
    """S2: modules that differ only in trailing spaces are one module (a PAD SPACE collation)."""

    # MySQL/MariaDB: utf8mb4_bin and utf8mb4_general_ci (MariaDB's utf8mb4 default) have
    # Pad_attribute "PAD SPACE": for `=` on CHAR/VARCHAR/TEXT, trailing spaces are not
    # significant, so WHERE module = 'a.b' also finds 'a.b '.
    # https://dev.mysql.com/doc/refman/8.0/en/charset-binary-collations.html#charset-binary-collations-trailing-space-comparisons
    # https://mariadb.com/kb/en/information-schema-collations-table/ (PAD_ATTRIBUTE)

    breaks: ClassVar[str] = "S2"
    also_fails: ClassVar[FrozenSet[str]] = frozenset()

    def _module_matches(self, stored: str, wanted: str) -> bool:
        return stored.rstrip(" ") == wanted.rstrip(" ")


class AccentInsensitiveModuleStore(BaselineStore):
    """S2: modules that differ only in accents are one module (an accent-insensitive ICU collation)."""

    # PostgreSQL: CREATE COLLATION ignore_accents (provider = icu,
    # locale = 'und-u-ks-level1-kc-true', deterministic = false): "é" = "e", case still counts.
    # https://www.postgresql.org/docs/current/collation.html#COLLATION-NONDETERMINISTIC

    breaks: ClassVar[str] = "S2"
    also_fails: ClassVar[FrozenSet[str]] = frozenset()

    def _module_matches(self, stored: str, wanted: str) -> bool:
        return strip_accents(stored) == strip_accents(wanted)


class CanonicalEquivalenceModuleStore(BaselineStore):
    """S2: modules in different Unicode normal forms (NFC "é" and NFD "é") are one module."""

    # PostgreSQL: a nondeterministic ICU collation (deterministic = false, even at the default
    # strength) compares canonically equivalent strings as equal: "handling of strings with
    # different Unicode normal forms" (commit "Collations with nondeterministic comparison").
    # https://www.postgresql.org/docs/current/collation.html#COLLATION-NONDETERMINISTIC

    breaks: ClassVar[str] = "S2"
    also_fails: ClassVar[FrozenSet[str]] = frozenset()

    def _module_matches(self, stored: str, wanted: str) -> bool:
        return unicodedata.normalize("NFC", stored) == unicodedata.normalize("NFC", wanted)


class NormalizedPrefixStore(BaselineStore):
    """S3: qualname and prefix are NFC-normalised before the prefix test, so an NFD prefix matches."""

    # PostgreSQL 13+: normalize(text, NFC) -- a store that writes
    # WHERE normalize(qualname, NFC) LIKE normalize(%s, NFC) || '%' to "fix" macOS (NFD) input.
    # https://www.postgresql.org/docs/current/functions-string.html (normalize)

    breaks: ClassVar[str] = "S3"
    also_fails: ClassVar[FrozenSet[str]] = frozenset()

    def _prefix_matches(self, qualname: str, prefix: str) -> bool:
        return unicodedata.normalize("NFC", qualname).startswith(unicodedata.normalize("NFC", prefix))


def tsql_like_prefix(prefix: str) -> re.Pattern[str]:
    """The regex T-SQL's LIKE uses for ``prefix + '%'`` once ``%`` and ``_`` are escaped: a
    well-formed ``[...]`` stays a character class."""
    parts = []
    i = 0
    while i < len(prefix):
        end = prefix.find("]", i + 2) if prefix[i] == "[" else -1
        if end != -1:
            body = prefix[i + 1 : end]
            negate = body.startswith("^")
            chars = re.escape(body[1:] if negate else body)
            parts.append(f"[{'^' if negate else ''}{chars}]")
            i = end + 1
        else:
            parts.append(re.escape(prefix[i]))
            i += 1
    return re.compile("".join(parts), re.DOTALL)


class TSqlBracketPrefixStore(BaselineStore):
    """S3: ``%`` and ``_`` are escaped for LIKE but ``[`` is not: ``"a[b]"`` matches ``"ab"``."""

    # SQL Server: in LIKE, [ ] is a wildcard too ("Any single character within the specified
    # range or set"); a store that escapes only % and _ (as for SQLite/PostgreSQL) lets
    # filter(m, "a[b]") return "ab.f".
    # https://learn.microsoft.com/en-us/sql/t-sql/language-elements/like-transact-sql#arguments

    breaks: ClassVar[str] = "S3"
    also_fails: ClassVar[FrozenSet[str]] = frozenset()

    def _prefix_matches(self, qualname: str, prefix: str) -> bool:
        return tsql_like_prefix(prefix).match(qualname) is not None
