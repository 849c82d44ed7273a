"""The JSON encoding of types and traces, byte-identical to MonkeyType 23.3.0's.

A type becomes ``{"module": ..., "qualname": ..., "elem_types": [...]}`` (plus
``"is_typed_dict": true`` and a dict of fields for a ``mypy_extensions.TypedDict``),
dumped with ``sort_keys=True`` and default separators.  Beyond MonkeyType, and in
forms MonkeyType's decoder reads without crashing:

* ``int | str`` is written as ``typing.Union`` (MonkeyType reads it as ``Union``);
* ``list[int]`` keeps its arguments as ``elem_types`` (MonkeyType reads ``list``);
* ``...`` in ``Tuple[int, ...]`` is ``{"module": "builtins", "qualname": "Ellipsis"}``
  and ``Literal[...]`` carries ``"literal_values"`` (MonkeyType raises its own
  ``InvalidTypeError`` for both, so ``monkeytype stub`` counts them as failed);
* a stdlib ``typing.TypedDict`` is written by reference, as MonkeyType does, and
  decodes wherever its module and qualname can be imported.

Encoded types and argument mappings are cached by identity (bounded), so a
workload that repeats the same types encodes each of them once.
"""

from __future__ import annotations

import json
import logging
import types
import typing
from json.encoder import encode_basestring_ascii
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, Type, TypeVar

from tracestore.base import CallTraceThunk
from tracestore.cache import BoundedCache, CacheStats
from tracestore.errors import DecodeError, EncodeError, InvalidTypeError, MalformedRowError
from tracestore.lookup import get_func_in_module, get_name_in_module
from tracestore.trace import CallTrace
from tracestore.typeinfo import (
    NoneType,
    NotImplementedType,
    generic_args,
    generic_qualname,
    is_any,
    is_bare_generic,
    is_builtin_alias,
    is_literal,
    is_mx_typed_dict,
    is_typing_generic,
    is_union,
    is_union_type,
    make_mx_typed_dict,
    mappingproxy,
)

__all__ = [
    "CallTraceRow",
    "TypeDict",
    "arg_types_from_json",
    "arg_types_to_json",
    "encode_trace",
    "encoding_cache_stats",
    "serialize_traces",
    "serialize_tuples",
    "type_from_dict",
    "type_from_json",
    "type_to_dict",
    "type_to_json",
]

logger = logging.getLogger(__name__)

TypeDict = Dict[str, Any]

_HIDDEN_BUILTINS: Dict[str, type] = {
    "NoneType": NoneType,
    "NotImplementedType": NotImplementedType,
    "mappingproxy": mappingproxy,
}
_ELLIPSIS_DICT: TypeDict = {"module": "builtins", "qualname": "Ellipsis"}
_LITERAL_VALUE_TYPES = (bool, int, str, type(None))

# -- types to dicts ---------------------------------------------------------------


def type_to_dict(typ: Any) -> TypeDict:
    """The dict form of ``typ``; raises ``EncodeError`` when it is not a type."""
    if is_mx_typed_dict(typ):
        return {
            "module": typ.__module__,
            "qualname": typ.__qualname__,
            "elem_types": {name: type_to_dict(t) for name, t in typ.__annotations__.items()},
            "is_typed_dict": True,
        }
    if is_literal(typ):
        values = list(generic_args(typ))
        bad = [v for v in values if not isinstance(v, _LITERAL_VALUE_TYPES)]
        if bad:
            raise EncodeError(f"Literal values must be bool, int, str or None, not {bad[0]!r}")
        return {"module": "typing", "qualname": "Literal", "literal_values": values}
    if is_union_type(typ):
        return {"module": "typing", "qualname": "Union", "elem_types": _elements(typ)}
    if is_builtin_alias(typ):
        origin = typ.__origin__
        return {"module": origin.__module__, "qualname": origin.__qualname__, "elem_types": _elements(typ)}
    if is_union(typ):
        qualname = "Union"
    elif is_any(typ):
        qualname = "Any"
    elif is_typing_generic(typ):
        qualname = generic_qualname(typ)
    elif isinstance(typ, type):
        qualname = typ.__qualname__
    else:
        raise EncodeError(f"{typ!r} is a {type(typ).__name__}, not a type")
    module = typ.__module__
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise EncodeError(f"{typ!r} has no string __module__ and __qualname__")
    encoded: TypeDict = {"module": module, "qualname": qualname}
    if is_typing_generic(typ) and not is_bare_generic(typ) and hasattr(typ, "__args__"):
        encoded["elem_types"] = _elements(typ)
    return encoded


def _elements(typ: Any) -> List[TypeDict]:
    return [_ELLIPSIS_DICT if arg is Ellipsis else type_to_dict(arg) for arg in generic_args(typ)]


# -- dicts to types ---------------------------------------------------------------


def type_from_dict(d: Any) -> Any:
    """The type that ``d`` (as written by ``type_to_dict``) names.

    Raises ``NameLookupError`` when a module or qualname cannot be found,
    ``InvalidTypeError`` when the name is not a type or takes no such arguments,
    ``MalformedRowError`` when ``d`` is not of the encoding's shape.
    """
    if not isinstance(d, dict):
        raise MalformedRowError(f"Expected a type dict, got {type(d).__name__}: {d!r:.200}")
    module, qualname = d.get("module"), d.get("qualname")
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise MalformedRowError(f"Type dict lacks a string 'module' and 'qualname': {d!r:.200}")
    if d.get("is_typed_dict", False):
        fields = d.get("elem_types")
        if not isinstance(fields, dict):
            raise MalformedRowError(f"TypedDict {module}.{qualname} has no dict of field types")
        return make_mx_typed_dict(module, qualname, {k: type_from_dict(v) for k, v in fields.items()})
    if module == "typing" and qualname == "Literal" and "literal_values" in d:
        return _literal_from(d["literal_values"])
    if module == "builtins" and qualname in _HIDDEN_BUILTINS:
        typ: Any = _HIDDEN_BUILTINS[qualname]
    else:
        typ = get_name_in_module(module, qualname)
    if not (isinstance(typ, type) or is_any(typ) or is_typing_generic(typ)):
        raise InvalidTypeError(f"{module}.{qualname} is a {type(typ).__name__}, not a type")
    elements = d.get("elem_types")
    if elements is None:
        return typ
    if not isinstance(elements, list):
        raise MalformedRowError(f"'elem_types' of {module}.{qualname} is not a list")
    args = tuple(Ellipsis if e == _ELLIPSIS_DICT else type_from_dict(e) for e in elements)
    return _subscript(typ, args, f"{module}.{qualname}")


def _subscript(typ: Any, args: Tuple[Any, ...], name: str) -> Any:
    try:
        if is_typing_generic(typ):
            return typ[args]
        if isinstance(typ, type) and hasattr(typ, "__class_getitem__"):
            return types.GenericAlias(typ, args)
    except TypeError as exc:
        raise InvalidTypeError(f"{name} does not take {len(args)} type arguments: {exc}") from exc
    raise InvalidTypeError(f"{name} takes no type arguments")


def _literal_from(values: Any) -> Any:
    if not isinstance(values, list) or not values:
        raise MalformedRowError(f"'literal_values' must be a non-empty list, not {values!r:.200}")
    return typing.Literal[tuple(values)]


# -- JSON -------------------------------------------------------------------------

_TYPE_JSON: BoundedCache[str] = BoundedCache(8192)
_ARGS_JSON: BoundedCache[str] = BoundedCache(16384)
_cached_type_json = _TYPE_JSON.get
_cached_args_json = _ARGS_JSON.get


def type_to_json(typ: Any) -> str:
    """``typ`` as MonkeyType's JSON text; cached by identity."""
    cached = _cached_type_json(id(typ))
    if cached is None:
        cached = json.dumps(type_to_dict(typ), sort_keys=True)
        _TYPE_JSON.put(id(typ), typ, cached)
    return cached


def type_from_json(text: Any) -> Any:
    """The type that ``text`` (from ``type_to_json``) names; raises ``DecodeError``."""
    return type_from_dict(_load(text, "type"))


def arg_types_to_json(arg_types: Dict[str, Any]) -> str:
    """An argument-name to type mapping as MonkeyType's JSON text; cached by identity."""
    if not isinstance(arg_types, dict):
        raise EncodeError(f"arg_types must be a dict, not {type(arg_types).__name__}")
    # The names, then the ids of their types, in one flat tuple (its length says where the
    # names end): cheaper to build and hash than a pair of tuples, on the hot path.
    key = (*arg_types, *map(id, arg_types.values()))
    cached = _cached_args_json(key)
    if cached is None:
        names = sorted(arg_types)  # raises TypeError on mixed key types, as json.dumps does
        if not all(isinstance(name, str) for name in names):
            raise EncodeError(f"argument names must be strings: {names!r}")
        body = ", ".join(f"{encode_basestring_ascii(n)}: {type_to_json(arg_types[n])}" for n in names)
        cached = "{" + body + "}"
        _ARGS_JSON.put(key, tuple(arg_types.values()), cached)
    return cached


def arg_types_from_json(text: Any) -> Dict[str, Any]:
    """The mapping that ``text`` (from ``arg_types_to_json``) names; raises ``DecodeError``."""
    loaded = _load(text, "arg_types")
    if not isinstance(loaded, dict):
        raise MalformedRowError(f"arg_types must be a JSON object, not {text!r:.200}")
    return {name: type_from_dict(d) for name, d in loaded.items()}


def encoding_cache_stats() -> Dict[str, CacheStats]:
    """Entries and approximate bytes held by the type and arg-types caches."""
    return {"types": _TYPE_JSON.stats(), "arg_types": _ARGS_JSON.stats()}


def _load(text: Any, what: str) -> Any:
    if not isinstance(text, str):
        raise MalformedRowError(f"{what} must be JSON text, not {type(text).__name__}")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise MalformedRowError(f"{what} is not valid JSON ({exc}): {text!r:.200}") from exc


# -- rows -------------------------------------------------------------------------

RowT = TypeVar("RowT", bound="CallTraceRow")
RowTuple = Tuple[str, str, str, Optional[str], Optional[str]]  # a row's five fields
_ROW_FIELDS = ("module", "qualname", "arg_types", "return_type", "yield_type")


class CallTraceRow(CallTraceThunk):
    """A trace with every field encoded: what a store keeps.

    Equality and hashing are by the five fields; any object with those attributes
    (MonkeyType's ``CallTraceRow`` too) compares equal when its fields are.
    """

    __slots__ = _ROW_FIELDS

    def __init__(
        self,
        module: str,
        qualname: str,
        arg_types: str,
        return_type: Optional[str],
        yield_type: Optional[str],
    ) -> None:
        self.module = module
        self.qualname = qualname
        self.arg_types = arg_types
        self.return_type = return_type
        self.yield_type = yield_type

    @classmethod
    def from_trace(cls: Type[RowT], trace: Any) -> RowT:
        """Encode ``trace``; raises ``EncodeError`` (or the error a broken type raises)."""
        return cls(*encode_trace(trace))

    def to_trace(self) -> CallTrace:
        """Decode; raises a ``DecodeError`` subclass naming what cannot be found (E5)."""
        try:
            return CallTrace(
                get_func_in_module(self.module, self.qualname),
                arg_types_from_json(self.arg_types),
                _optional_type(self.return_type),
                _optional_type(self.yield_type),
            )
        except DecodeError:
            raise
        except Exception as exc:  # e.g. a TypeError from a field that is not text
            raise MalformedRowError(
                f"Row for {self.module!r}.{self.qualname!r} cannot be decoded: {exc!r}"
            ) from exc

    def as_tuple(self) -> RowTuple:
        return (self.module, self.qualname, self.arg_types, self.return_type, self.yield_type)

    def __eq__(self, other: object) -> bool:
        other_fields = row_fields(other)
        if other_fields is None:
            return NotImplemented
        return self.as_tuple() == other_fields

    def __hash__(self) -> int:
        return hash(self.as_tuple())

    def __repr__(self) -> str:
        return "CallTraceRow({!r}, {!r}, {!r}, {!r}, {!r})".format(*self.as_tuple())


def row_fields(thunk: Any) -> Optional[Tuple[Any, ...]]:
    """The five row fields of ``thunk`` when it has them all (any class's row), else ``None``."""
    try:
        return tuple(getattr(thunk, name) for name in _ROW_FIELDS)
    except AttributeError:
        return None


def _optional_type(text: Optional[str]) -> Any:
    return None if text is None or text == "null" else type_from_json(text)


def encode_trace(trace: Any) -> RowTuple:
    """The five fields of ``trace``'s row; raises ``EncodeError`` (or the error a broken type raises)."""
    func = trace.func
    module, qualname = func.__module__, func.__qualname__
    if module.__class__ is not str or qualname.__class__ is not str:
        raise EncodeError(f"{func!r} has no string __module__ and __qualname__")
    return_type, yield_type = trace.return_type, trace.yield_type
    return (
        module,
        qualname,
        arg_types_to_json(trace.arg_types),
        None if return_type is None else _cached_type_json(id(return_type)) or type_to_json(return_type),
        None if yield_type is None else _cached_type_json(id(yield_type)) or type_to_json(yield_type),
    )


def serialize_traces(traces: Iterable[Any]) -> Iterator[CallTraceRow]:
    """Encode traces lazily, in order; one that fails is logged at ERROR and skipped (E4)."""
    for fields in serialize_tuples(traces):
        yield CallTraceRow(*fields)


def serialize_tuples(traces: Iterable[Any]) -> Iterator[RowTuple]:
    """``serialize_traces`` as plain tuples of the five fields: what stores keep, built faster."""
    for trace in traces:
        try:
            fields = encode_trace(trace)
        except Exception:
            logger.exception("Failed to serialize trace of %s", _describe(trace))
            continue
        yield fields


def _describe(trace: Any) -> str:
    try:
        func = trace.func
        return f"{func.__module__}.{func.__qualname__}"
    except Exception:
        try:
            return repr(getattr(trace, "func", trace))[:200]
        except Exception:
            return "an unprintable function"
