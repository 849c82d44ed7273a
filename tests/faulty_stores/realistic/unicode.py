"""Realistic faults of text encodings (S1, S2, S3): NUL, characters outside the BMP, line separators."""

from __future__ import annotations

import json
from typing import Any, ClassVar, FrozenSet, Iterable, List

from tests.faulty_stores.baseline import BaselineStore
from tests.faulty_stores.jsonl import HEADER, JsonLinesStore
from tests.faulty_stores.realistic._rows import rewritten
from tracestore import CallTraceRow


def c_string(text: str) -> str:
    """``text`` as a C string sees it: cut at the first NUL."""
    return text.partition("\x00")[0]


def utf8mb3_truncated(text: str) -> str:
    """``text`` cut before its first character outside the BMP (4 bytes in UTF-8)."""
    for index, char in enumerate(text):
        if ord(char) > 0xFFFF:
            return text[:index]
    return text


def surrogate_pair(char: str) -> str:
    """The UTF-16 surrogate pair of a character outside the BMP, as two (lone) code points."""
    offset = ord(char) - 0x10000
    return chr(0xD800 + (offset >> 10)) + chr(0xDC00 + (offset & 0x3FF))


class NulTerminatedModuleStore(BaselineStore):
    """S2: module names are passed as C strings, so ``"a.b\\x00c"`` is stored and looked up as ``"a.b"``."""

    # libpq: in PQexecParams, text-format parameter values are "null-terminated text strings";
    # a driver that hands Python str to it as char* cuts every value at its first NUL, on
    # INSERT and in WHERE alike. https://www.postgresql.org/docs/current/libpq-exec.html

    breaks: ClassVar[str] = "S2"
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S1", "S3", "S12"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        return [rewritten(row, c_string, names_only=True) for row in super()._serialize(traces)]

    def _module_matches(self, stored: str, wanted: str) -> bool:
        return stored == c_string(wanted)


class NulTerminatedPrefixStore(BaselineStore):
    """S3: the prefix is bound as a C string (length -1), so ``"a\\x00zz"`` is searched as ``"a"``."""

    # SQLite: sqlite3_bind_text(stmt, i, text, -1, ...): "If the fourth parameter to
    # sqlite3_bind_text() ... is negative, then the length of the string is the number of
    # bytes up to the first zero terminator." https://www.sqlite.org/c3ref/bind_blob.html

    breaks: ClassVar[str] = "S3"
    also_fails: ClassVar[FrozenSet[str]] = frozenset()

    def _prefix_matches(self, qualname: str, prefix: str) -> bool:
        return qualname.startswith(c_string(prefix))


class Utf8mb3TruncatingModuleStore(BaselineStore):
    """S2: modules are cut before a 4-byte character (utf8mb3): ``"a\U0001d518"`` and ``"a"`` are one."""

    # MySQL/MariaDB utf8mb3 ("utf8" before 8.0.30) holds only BMP characters; outside strict
    # mode an INSERT of a 4-byte character truncates the value there with warning 1366, and
    # the connection charset converts the WHERE parameter the same way.
    # https://dev.mysql.com/doc/refman/8.0/en/charset-unicode-utf8mb3.html
    # https://dev.mysql.com/doc/refman/8.0/en/sql-mode.html#sql-mode-strict

    breaks: ClassVar[str] = "S2"
    also_fails: ClassVar[FrozenSet[str]] = frozenset(
        {"E4", "S1", "S3", "S4", "S5", "S6", "S7", "S12", "S13", "S15"}
    )

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        return [rewritten(row, utf8mb3_truncated, names_only=True) for row in super()._serialize(traces)]

    def _module_matches(self, stored: str, wanted: str) -> bool:
        return stored == utf8mb3_truncated(wanted)


class QuestionMarkAstralStore(BaselineStore):
    """S1: characters outside the BMP are stored as ``?``, so such a trace does not come back."""

    # MySQL: converting to a character set that cannot represent a character yields "?"
    # (a utf8mb3 or latin1 connection or column given utf8mb4 data stores "????").
    # https://dev.mysql.com/doc/refman/8.0/en/charset-conversion.html
    # https://dev.mysql.com/doc/refman/8.0/en/charset-unicode-utf8mb3.html

    breaks: ClassVar[str] = "S1"
    also_fails: ClassVar[FrozenSet[str]] = frozenset(
        {"E4", "S2", "S3", "S4", "S5", "S6", "S7", "S12", "S13", "S15"}
    )

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        def question(text: str) -> str:
            return "".join("?" if ord(c) > 0xFFFF else c for c in text)

        return [rewritten(row, question) for row in super()._serialize(traces)]


class ModifiedUtf8Store(BaselineStore):
    """S1: text goes through Java's modified UTF-8 (CESU-8) and back through a strict UTF-8 decoder."""

    # Java: DataOutputStream.writeUTF writes "modified UTF-8": a supplementary character is
    # written as its two surrogates, 3 bytes each; a standard UTF-8 reader rejects those bytes
    # and errors="replace" turns the character into two U+FFFD.
    # https://docs.oracle.com/javase/8/docs/api/java/io/DataInput.html#modified-utf-8

    breaks: ClassVar[str] = "S1"
    also_fails: ClassVar[FrozenSet[str]] = frozenset(
        {"E4", "S2", "S3", "S4", "S5", "S6", "S7", "S12", "S13", "S15"}
    )

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        def cesu8_round_trip(text: str) -> str:
            pairs = "".join(c if ord(c) <= 0xFFFF else surrogate_pair(c) for c in text)
            return pairs.encode("utf-8", "surrogatepass").decode("utf-8", "replace")

        return [rewritten(row, cesu8_round_trip) for row in super()._serialize(traces)]


class SplitLinesJsonStore(JsonLinesStore):
    """S1: rows are written unescaped and read back with ``str.splitlines()``, which also splits at
    U+2028, U+2029, U+0085 ...: a name holding one breaks its row and every later one."""

    # Python: str.splitlines() splits on \\x0b, \\x0c, \\x1c-\\x1e, \\x85, \\u2028, \\u2029 as well
    # as \\n and \\r; json.dumps(..., ensure_ascii=False) writes U+2028 as is.
    # https://docs.python.org/3/library/stdtypes.html#str.splitlines

    breaks: ClassVar[str] = "S1"
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S2", "S3", "S7"})

    def _append(self, rows: List[Any]) -> None:
        if not rows:
            return
        text = "".join(json.dumps(row.as_tuple(), ensure_ascii=False) + "\n" for row in rows)
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(text)

    def _snapshot(self) -> List[CallTraceRow]:
        with open(self.path, encoding="utf-8") as file:
            lines = file.read().splitlines()
        rows = []
        for line in lines:
            if line == HEADER.decode("ascii").rstrip("\n"):
                continue
            try:
                rows.append(CallTraceRow(*json.loads(line)))
            except ValueError:
                continue  # a "line" torn by a U+2028 inside a name
        return rows
