"""Realistic faults of column and integer widths (S1, S4): values cut to fit, limits that overflow."""

from __future__ import annotations

import ctypes
from typing import Any, ClassVar, FrozenSet, Iterable, List

from tests.faulty_stores.baseline import BaselineStore
from tracestore import check_limit


class Varchar255QualnameStore(BaselineStore):
    """S1: the qualname column is VARCHAR(255) outside strict mode: longer qualnames are cut to 255
    characters, so such a trace does not come back."""

    # MySQL: "If strict SQL mode is not enabled and you assign a value to a CHAR or VARCHAR
    # column that exceeds the column's maximum length, the value is truncated to fit and a
    # warning is generated." https://dev.mysql.com/doc/refman/8.0/en/char.html

    breaks: ClassVar[str] = "S1"
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E4", "S3", "S4", "S5", "S6", "S7", "S13", "S15"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        rows = super()._serialize(traces)
        return [
            row.__class__(row.module, row.qualname[:255], row.arg_types, row.return_type, row.yield_type)
            for row in rows
        ]


class IndexPrefixModuleStore(BaselineStore):
    """S1: the module column is VARCHAR(191) (so a utf8mb4 index fits 767 bytes), outside strict
    mode: modules longer than 191 characters are cut, so their traces are not found again."""

    # MySQL/InnoDB: "The index key prefix length limit is 767 bytes for InnoDB tables that use
    # the REDUNDANT or COMPACT row format" -- 191 utf8mb4 characters, the width Django, Laravel
    # and Rails chose; and values past a VARCHAR's width are truncated outside strict mode.
    # https://dev.mysql.com/doc/refman/8.0/en/innodb-limits.html
    # https://dev.mysql.com/doc/refman/8.0/en/char.html

    breaks: ClassVar[str] = "S1"
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S2", "S3", "S4", "S7", "S12", "S13"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        rows = super()._serialize(traces)
        return [
            row.__class__(row.module[:191], row.qualname, row.arg_types, row.return_type, row.yield_type)
            for row in rows
        ]


class Int64WrappingLimitStore(BaselineStore):
    """S4: the limit is converted to a C int64 with wrap-around: 2**64 becomes 0, 2**63 negative."""

    # ctypes: "no overflow checking is done" for c_int64(value), the conversion a binding to a
    # C engine (and NumPy's astype(int64)) makes; a negative LIMIT means "no limit" in SQLite.
    # https://docs.python.org/3/library/ctypes.html#fundamental-data-types
    # https://www.sqlite.org/lang_select.html#the_limit_clause

    breaks: ClassVar[str] = "S4"
    also_fails: ClassVar[FrozenSet[str]] = frozenset()

    def _check_limit(self, limit: int) -> int:
        wrapped = ctypes.c_int64(check_limit(limit)).value
        return wrapped if wrapped >= 0 else 2**62


class BigintLimitRaisesStore(BaselineStore):
    """S4: a limit of 2**63 or more raises (LIMIT is a bigint) instead of giving every match."""

    # PostgreSQL: LIMIT takes a bigint; 9223372036854775808 fails with "bigint out of range"
    # (psycopg: NumericValueOutOfRange), and Python's sqlite3 raises OverflowError "Python int
    # too large to convert to SQLite INTEGER" for the same value.
    # https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-INT
    # https://www.postgresql.org/docs/current/sql-select.html#SQL-LIMIT

    breaks: ClassVar[str] = "S4"
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S3"})

    def _check_limit(self, limit: int) -> int:
        if check_limit(limit) >= 2**63:
            raise OverflowError("bigint out of range")
        return limit
