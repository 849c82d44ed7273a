"""``CallTrace``: the types one call of a function saw."""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from tracestore.typeinfo import types_equal

_FIELDS = ("func", "arg_types", "return_type", "yield_type")


class CallTrace:
    """The argument, return and yield types observed in one call of ``func``.

    ``return_type`` is ``None`` when the call raised; ``NoneType`` when it returned
    ``None``.  ``yield_type`` is ``None`` unless the function is a generator.
    Equality is by fields, against any object with these four attributes (so a
    MonkeyType ``CallTrace`` compares equal too); types are compared structurally.
    """

    __slots__ = _FIELDS

    def __init__(
        self,
        func: Callable[..., Any],
        arg_types: Dict[str, type],
        return_type: Optional[type] = None,
        yield_type: Optional[type] = None,
    ) -> None:
        self.func = func
        self.arg_types = arg_types
        self.return_type = return_type
        self.yield_type = yield_type

    def __eq__(self, other: object) -> bool:
        if not all(hasattr(other, name) for name in _FIELDS):
            return NotImplemented
        return traces_equal(self, other)

    def __hash__(self) -> int:
        return hash((self.func, tuple(sorted(self.arg_types))))

    def __repr__(self) -> str:
        return f"CallTrace({self.func!r}, {self.arg_types!r}, {self.return_type!r}, {self.yield_type!r})"


def traces_equal(left: Any, right: Any) -> bool:
    """Compare two trace-like objects field by field, whatever their classes."""
    if left.func is not right.func and left.func != right.func:
        return False
    largs: Dict[str, Any] = left.arg_types
    rargs: Dict[str, Any] = right.arg_types
    if not isinstance(largs, dict) or not isinstance(rargs, dict) or largs.keys() != rargs.keys():
        return False
    return (
        all(types_equal(largs[name], rargs[name]) for name in largs)
        and types_equal(left.return_type, right.return_type)
        and types_equal(left.yield_type, right.yield_type)
    )
