"""Realistic faults of batch and page sizes (S1, S3, S4, S12): bound-parameter caps, result windows,
pages that are never followed."""

from __future__ import annotations

import sqlite3
from typing import Any, ClassVar, FrozenSet, List, Optional

from tests.faulty_stores.baseline import BaselineStore
from tracestore import CallTraceRow, CallTraceThunk

COLUMNS = 5  # parameters per row of a multi-row INSERT ... VALUES (?, ?, ?, ?, ?), (...)


class TooManyPlaceholders(Exception):
    """What a server's driver raises for a statement with more parameters than the protocol allows."""


class SQLiteVariableCapStore(BaselineStore):
    """S1: one add is one multi-row INSERT; past 32766 bound variables (6553 rows) it raises and
    the whole batch is lost."""

    # SQLite: SQLITE_MAX_VARIABLE_NUMBER "defaults to 999 for SQLite versions prior to 3.32.0
    # (2020-05-22) or 32766 for SQLite versions after 3.32.0"; beyond it, "too many SQL
    # variables". https://www.sqlite.org/limits.html#max_variable_number

    breaks: ClassVar[str] = "S1"
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S3", "S4"})

    def _append(self, rows: List[Any]) -> None:
        if len(rows) * COLUMNS > 32766:
            raise sqlite3.OperationalError("too many SQL variables")
        super()._append(rows)


class MySQLPlaceholderCapStore(BaselineStore):
    """S1: one add is one multi-row INSERT; past 65535 placeholders (13107 rows) the server refuses it."""

    # MySQL: error 1390 ER_PS_MANY_PARAM "Prepared statement contains too many placeholders";
    # the binary protocol counts parameters in 2 bytes (at most 65535).
    # https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html#error_er_ps_many_param

    breaks: ClassVar[str] = "S1"
    also_fails: ClassVar[FrozenSet[str]] = frozenset()

    def _append(self, rows: List[Any]) -> None:
        if len(rows) * COLUMNS > 65535:
            raise TooManyPlaceholders("1390 (HY000): Prepared statement contains too many placeholders")
        super()._append(rows)


class PostgresBindParameterCapStore(BaselineStore):
    """S1: add first looks its rows up with ``key IN (%s, %s, ...)``, one parameter per row; past
    65535 rows the statement cannot be sent and the batch is lost."""

    # PostgreSQL frontend/backend protocol: the Bind message carries "Int16: the number of
    # parameter values", so at most 65535 (psycopg: "number of parameters must be between 0
    # and 65535"). https://www.postgresql.org/docs/current/protocol-message-formats.html

    breaks: ClassVar[str] = "S1"
    also_fails: ClassVar[FrozenSet[str]] = frozenset()

    def _append(self, rows: List[Any]) -> None:
        if len(rows) > 65535:
            raise TooManyPlaceholders(f"number of parameters must be between 0 and 65535, not {len(rows)}")
        super()._append(rows)


class ResultWindowStore(BaselineStore):
    """S4: results are capped at 10,000 (the search engine's result window), whatever the limit."""

    # Elasticsearch/OpenSearch: index.max_result_window, "the maximum value of from + size for
    # searches to this index. Defaults to 10000"; a store that clamps size to it to avoid
    # "Result window is too large" returns at most 10,000 hits.
    # https://www.elastic.co/guide/en/elasticsearch/reference/current/index-modules.html#dynamic-index-settings

    breaks: ClassVar[str] = "S4"
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S1"})

    def _choose(self, newest_first: List[CallTraceRow], limit: int) -> List[CallTraceRow]:
        return super()._choose(newest_first, min(limit, 10_000))


PAGE_BYTES = 1024 * 1024


def row_bytes(row: CallTraceRow) -> int:
    return sum(len(field.encode("utf-8", "surrogatepass")) for field in row.as_tuple() if field is not None)


class FirstPageOnlyStore(BaselineStore):
    """S3: the module's rows are read newest first one 1 MB page at a time, the prefix is applied
    to the page, and the next page is never asked for: a match behind 1 MB of newer rows is lost."""

    # DynamoDB Query: "A single Query operation can retrieve a maximum of 1 MB of data. This
    # limit applies before any FilterExpression ... is applied"; more results are behind
    # LastEvaluatedKey, which this store does not follow.
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html

    breaks: ClassVar[str] = "S3"
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S1"})

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        limit = self._check_limit(limit)
        prefix = qualname_prefix or ""
        page: List[CallTraceRow] = []
        size = 0
        for row in reversed(self._snapshot()):
            if row.module != module:
                continue
            size += row_bytes(row)
            if size > PAGE_BYTES:
                break
            page.append(row)
        newest_first = [row for row in page if row.qualname.startswith(prefix)]
        return self._listed(self._choose(newest_first, limit))


class SingleScanModulesStore(BaselineStore):
    """S12: list_modules makes one SCAN call (COUNT 10) and never follows its cursor: at most 10 modules."""

    # Redis SCAN: "COUNT ... default value is 10"; a full iteration "starts when the cursor is
    # set to 0, and terminates when the cursor returned by the server is 0" -- this store
    # stops after the first call. https://redis.io/docs/latest/commands/scan/

    breaks: ClassVar[str] = "S12"
    also_fails: ClassVar[FrozenSet[str]] = frozenset()

    def list_modules(self) -> List[str]:
        return super().list_modules()[:10]
