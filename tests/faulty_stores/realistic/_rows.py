"""Helpers of the realistic faulty stores: rewrite the text fields of a row as an engine would."""

from __future__ import annotations

from typing import Callable, Optional

from tracestore import CallTraceRow

Text = Callable[[str], str]


def _optional(text: Optional[str], change: Text) -> Optional[str]:
    return None if text is None else change(text)


def rewritten(row: CallTraceRow, change: Text, names_only: bool = False) -> CallTraceRow:
    """``row`` with ``change`` applied to its module and qualname (and, unless ``names_only``, to
    its JSON columns too)."""
    if names_only:
        return CallTraceRow(
            change(row.module), change(row.qualname), row.arg_types, row.return_type, row.yield_type
        )
    return CallTraceRow(
        change(row.module),
        change(row.qualname),
        change(row.arg_types),
        _optional(row.return_type, change),
        _optional(row.yield_type, change),
    )
