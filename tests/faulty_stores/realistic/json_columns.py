"""Realistic faults of JSON columns that the engine rewrites (E3) and of keys that miss a field (S1)."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Dict, FrozenSet, Iterable, List, Tuple

from tests.faulty_stores.baseline import BaselineStore
from tracestore import CallTraceRow


def _jsonb_ordered(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _jsonb_ordered(value[key])
            for key in sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        }
    if isinstance(value, list):
        return [_jsonb_ordered(item) for item in value]
    return value


def jsonb_text(text: str) -> str:
    """``text`` as PostgreSQL prints it back from a ``jsonb`` column: keys shorter first."""
    return json.dumps(_jsonb_ordered(json.loads(text)))


def minified(text: str) -> str:
    """``text`` as SQLite's ``json()`` returns it: no spaces after ``,`` and ``:``."""
    return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)


class JsonbColumnsStore(BaselineStore):
    """E3: the type columns are ``jsonb``: object keys come back ordered shortest first
    (``module``, ``qualname``, ``elem_types``), not as MonkeyType wrote them."""

    # PostgreSQL: "jsonb does not preserve white space, does not preserve the order of object
    # keys, and does not keep duplicate object keys"; keys are stored shorter first.
    # https://www.postgresql.org/docs/current/datatype-json.html

    breaks: ClassVar[str] = "E3"
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E2"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        return [self._jsonb(row) for row in super()._serialize(traces)]

    @staticmethod
    def _jsonb(row: CallTraceRow) -> CallTraceRow:
        return CallTraceRow(
            row.module,
            row.qualname,
            jsonb_text(row.arg_types),
            None if row.return_type is None else jsonb_text(row.return_type),
            None if row.yield_type is None else jsonb_text(row.yield_type),
        )


class MinifiedJsonStore(BaselineStore):
    """E3: the type columns pass through SQLite's ``json()``, which minifies them."""

    # SQLite: "The json(X) function verifies that its argument X is a valid JSON string or
    # JSONB blob and returns a minified version of that JSON string".
    # https://www.sqlite.org/json1.html#jmini

    breaks: ClassVar[str] = "E3"
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E2"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        rows = super()._serialize(traces)
        return [
            CallTraceRow(
                row.module,
                row.qualname,
                minified(row.arg_types),
                None if row.return_type is None else minified(row.return_type),
                None if row.yield_type is None else minified(row.yield_type),
            )
            for row in rows
        ]


class YieldTypeNotInKeyStore(BaselineStore):
    """S1: rows are upserted on a unique key without ``yield_type``: traces that differ only in
    their yield type overwrite one another."""

    # SQLite/PostgreSQL UPSERT: INSERT ... ON CONFLICT (module, qualname, arg_types,
    # return_type) DO UPDATE SET yield_type = excluded.yield_type -- the conflict target is
    # the unique index, so a trace with another yield type replaces the stored one.
    # https://www.sqlite.org/lang_upsert.html
    # https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT

    breaks: ClassVar[str] = "S1"
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S5"})

    def _append(self, rows: List[Any]) -> None:
        with self._history.lock:
            history = [*self._history.rows, *rows]
            last: Dict[Tuple[Any, ...], int] = {row.as_tuple()[:4]: i for i, row in enumerate(history)}
            self._history.rows[:] = [row for i, row in enumerate(history) if last[row.as_tuple()[:4]] == i]
