"""Rows given to a reference store's ``add_rows``: checked before anything is written."""

from __future__ import annotations

from typing import Any, Iterable, List, Optional

from tracestore import CallTraceRow, EncodeError

_TEXT_FIELDS = ("module", "qualname", "arg_types")
_OPTIONAL_FIELDS = ("return_type", "yield_type")


def checked_rows(rows: Iterable[Any]) -> List[CallTraceRow]:
    """Every row of ``rows`` as a ``CallTraceRow``, in order; ``EncodeError`` naming a bad field.

    A row is anything with the five row attributes: ``module``, ``qualname`` and
    ``arg_types`` are ``str``, ``return_type`` and ``yield_type`` a ``str`` or ``None``.
    All rows are read and checked before the list is returned, so a store that calls
    this first stores nothing of a call with one bad row.
    """
    checked: List[CallTraceRow] = []
    for index, row in enumerate(rows):
        if type(row) is CallTraceRow and _valid(row):
            checked.append(row)
        else:
            checked.append(_convert(index, row))
    return checked


def _valid(row: CallTraceRow) -> bool:
    return (
        type(row.module) is str
        and type(row.qualname) is str
        and type(row.arg_types) is str
        and (row.return_type is None or type(row.return_type) is str)
        and (row.yield_type is None or type(row.yield_type) is str)
    )


def _convert(index: int, row: Any) -> CallTraceRow:
    values: List[Optional[str]] = []
    for name in _TEXT_FIELDS + _OPTIONAL_FIELDS:
        try:
            value = getattr(row, name)
        except AttributeError:
            raise EncodeError(
                f"add_rows: row {index} ({type(row).__name__}) has no field {name!r}; a row needs "
                "module, qualname, arg_types, return_type and yield_type"
            ) from None
        if value is None and name in _OPTIONAL_FIELDS:
            values.append(None)
        elif isinstance(value, str):
            values.append(str(value))  # a str subclass becomes a plain str
        else:
            allowed = "a str or None" if name in _OPTIONAL_FIELDS else "a str"
            raise EncodeError(
                f"add_rows: row {index} ({_where(row)}): field {name!r} must be {allowed}, "
                f"not {type(value).__name__} ({value!r:.80})"
            )
    module, qualname, arg_types, return_type, yield_type = values
    assert module is not None and qualname is not None and arg_types is not None  # checked above
    return CallTraceRow(module, qualname, arg_types, return_type, yield_type)


def _where(row: Any) -> str:
    module, qualname = getattr(row, "module", None), getattr(row, "qualname", None)
    if isinstance(module, str) and isinstance(qualname, str):
        return f"{module}:{qualname}"
    return type(row).__name__
