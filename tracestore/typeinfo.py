"""What kind of type a value is, and structural equality of types.

The predicates follow the distinctions MonkeyType 23.3.0's encoding makes, so that
``tracestore.encoding`` can write byte-identical JSON.
"""

from __future__ import annotations

import types
import typing
import warnings
from typing import Any, Tuple

import mypy_extensions

NoneType: type = type(None)
NotImplementedType: type = type(NotImplemented)
mappingproxy: type = type(type.__dict__)
EllipsisType: type = type(Ellipsis)

_TYPING_ALIASES: Tuple[type, ...] = (
    typing._GenericAlias,  # type: ignore[attr-defined]
    typing._SpecialGenericAlias,  # type: ignore[attr-defined]
)
_UNION_TYPE: Any = getattr(types, "UnionType", None)  # ``int | str``, Python 3.10+
_BUILTIN_ALIAS: type = types.GenericAlias  # ``list[int]``
_MX_TYPED_DICT_META: type = type(mypy_extensions.TypedDict)
_BARE_GENERICS = (typing.Dict, typing.List, typing.Tuple)


def is_any(typ: object) -> bool:
    return typ is Any


def is_typing_generic(typ: object) -> bool:
    """A ``typing`` alias such as ``List[int]``, ``Set`` or ``Union[...]``."""
    return typ is typing.Union or isinstance(typ, _TYPING_ALIASES)


def is_union(typ: object) -> bool:
    return typ is typing.Union or (
        is_typing_generic(typ) and getattr(typ, "__origin__", None) is typing.Union
    )


def is_union_type(typ: object) -> bool:
    """PEP 604 ``int | str`` (not MonkeyType-encodable; tracestore writes it as Union)."""
    return _UNION_TYPE is not None and isinstance(typ, _UNION_TYPE)


def is_builtin_alias(typ: object) -> bool:
    """PEP 585 ``list[int]`` (MonkeyType drops its arguments; tracestore keeps them)."""
    return isinstance(typ, _BUILTIN_ALIAS)


def is_literal(typ: object) -> bool:
    return is_typing_generic(typ) and getattr(typ, "__origin__", None) is typing.Literal


def is_bare_generic(typ: object) -> bool:
    return any(typ is bare for bare in _BARE_GENERICS)


def is_mx_typed_dict(typ: object) -> bool:
    """A ``mypy_extensions.TypedDict``, the kind MonkeyType encodes structurally."""
    return isinstance(typ, _MX_TYPED_DICT_META)


def generic_qualname(typ: Any) -> str:
    """The name MonkeyType records for a ``typing`` alias (``List``, ``Generator``, ...)."""
    return str(
        getattr(typ, "_name", None) or getattr(typ.__origin__, "_name", None) or typ.__origin__.__qualname__
    )


def generic_args(typ: Any) -> Tuple[Any, ...]:
    """Arguments of an alias, with ``Tuple[()]``'s pre-3.11 ``((),)`` read as ``()``."""
    args: Tuple[Any, ...] = getattr(typ, "__args__", ())
    return () if args == ((),) else args


def make_mx_typed_dict(module: str, qualname: str, fields: typing.Dict[str, Any]) -> type:
    """Build a ``mypy_extensions.TypedDict`` as MonkeyType's decoder does, quietly.

    Unlike MonkeyType's, it keeps the recorded module and qualname, so that encoding
    it again gives the same JSON (rule E2).
    """
    namespace = {"__annotations__": fields, "__module__": module, "__qualname__": qualname}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        made: type = _MX_TYPED_DICT_META(qualname.rpartition(".")[2], (), namespace)
    return made


def types_equal(left: object, right: object) -> bool:
    """Equality of types that also compares ``mypy_extensions.TypedDict``s by structure.

    Two TypedDicts built separately with the same name and fields are different
    classes, but the same type to MonkeyType; recursion covers them inside generics.
    """
    if left is right:
        return True
    if is_mx_typed_dict(left) or is_mx_typed_dict(right):
        return _typed_dicts_equal(left, right)
    try:
        if left == right:
            return True
    except Exception:
        return False
    lorigin = getattr(left, "__origin__", None)
    rorigin = getattr(right, "__origin__", None)
    if lorigin is None or lorigin is not rorigin:
        return False
    largs, rargs = generic_args(left), generic_args(right)
    if len(largs) != len(rargs):
        return False
    if lorigin is typing.Union:
        return all(any(types_equal(a, b) for b in rargs) for a in largs)
    return all(types_equal(a, b) for a, b in zip(largs, rargs))


def _typed_dicts_equal(left: Any, right: Any) -> bool:
    if not (is_mx_typed_dict(left) and is_mx_typed_dict(right)):
        return False
    lfields, rfields = left.__annotations__, right.__annotations__
    return (
        left.__name__ == right.__name__
        and getattr(left, "__total__", True) == getattr(right, "__total__", True)
        and lfields.keys() == rfields.keys()
        and all(types_equal(lfields[k], rfields[k]) for k in lfields)
    )
