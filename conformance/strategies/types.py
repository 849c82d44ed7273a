"""Strategies for the types a trace holds (rule E1's list), all readable by MonkeyType 23.3.0 too.

``types()`` nests builtins, ``NoneType``, ``NotImplementedType``, ``mappingproxy``,
user and nested classes and ``Any`` inside ``Union``/``Optional``, the ``typing``
generics (``Dict``, ``List``, ``Set``, ``FrozenSet``, ``Tuple`` including ``Tuple[()]``,
``Type``, ``Iterator``, ``Generator``) and ``mypy_extensions`` ``TypedDict``s.
A store decodes a ``TypedDict`` as a new class; compare types with
``tracestore.typeinfo.types_equal`` (traces with ``tracestore.traces_equal``).
``SIMPLE_TYPES`` is a fixed pool of ready-made types, for tests that count rows.
"""

from __future__ import annotations

import json
import typing
from typing import Any, Dict, FrozenSet, Generator, Iterator, List, Optional, Set, Tuple, Type, Union

from hypothesis import strategies as st

from conformance.sample_functions import USER_TYPES
from tracestore.encoding import type_to_dict
from tracestore.typeinfo import NoneType, NotImplementedType, make_mx_typed_dict, mappingproxy

__all__ = [
    "BUILTIN_TYPES",
    "SIMPLE_TYPES",
    "SPECIAL_TYPES",
    "builtin_types",
    "generic_types",
    "leaf_types",
    "simple_types",
    "typed_dicts",
    "types",
    "unions",
    "user_types",
]

BUILTIN_TYPES: Tuple[type, ...] = (
    int, str, bytes, float, bool, complex, object, type, list, dict, set, frozenset, tuple, bytearray, range,
)  # fmt: skip
SPECIAL_TYPES: Tuple[type, ...] = (NoneType, NotImplementedType, mappingproxy)
"""Builtin types that ``builtins`` does not name."""

_BARE_GENERICS: Tuple[Any, ...] = (typing.Dict, typing.List, typing.Tuple)
_FIELD_NAMES = ("id", "name", "value", "items", "é", "x_1")
_TYPED_DICT_NAMES = ("Movie", "Config", "Record")
_TYPED_DICT_MODULE = "conformance.strategies.types"

SIMPLE_TYPES: Tuple[Any, ...] = (
    int, str, bytes, NoneType, Any, USER_TYPES[0], USER_TYPES[2], List[int], Dict[str, int], Optional[str],
    Union[int, str], Tuple[()], Tuple[int, str], Set[bytes], FrozenSet[int], Type[int], Iterator[str],
    Generator[int, None, None], Dict[str, List[Optional[int]]],
)  # fmt: skip
"""Ready-made types, unions only at the top: every one decodes to an equal, equally encoded type."""


def builtin_types() -> st.SearchStrategy[type]:
    """Builtin classes, including those that ``builtins`` does not name."""
    return st.sampled_from(BUILTIN_TYPES + SPECIAL_TYPES)


def user_types() -> st.SearchStrategy[type]:
    """User classes of ``conformance.sample_functions``, nested ones included."""
    return st.sampled_from(USER_TYPES)


def leaf_types() -> st.SearchStrategy[Any]:
    """Types without arguments: builtins, user classes, ``Any`` and the bare ``Dict``/``List``/``Tuple``."""
    return st.one_of(builtin_types(), user_types(), st.just(Any), st.sampled_from(_BARE_GENERICS))


def simple_types() -> st.SearchStrategy[Any]:
    """One of ``SIMPLE_TYPES``."""
    return st.sampled_from(SIMPLE_TYPES)


def _of(generic: Any, *args: Any) -> Any:
    """``generic[args]``, built at run time from drawn types."""
    return generic[args[0] if len(args) == 1 else args]


def _canonical(typ: Any) -> str:
    return json.dumps(type_to_dict(typ), sort_keys=True)


def unions(elements: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``Union``s of 2-3 element types (members in a canonical order) and ``Optional``s."""
    # ``builds``, not ``map``: mapping a ``one_of`` copies its branches, which explodes under recursion.
    members = st.builds(lambda ts: sorted(ts, key=_canonical), st.lists(elements, min_size=2, max_size=3))
    return st.one_of(
        st.builds(lambda ts: _of(Union, *ts), members),
        st.builds(_of, st.just(Optional), elements),
    )


def typed_dicts(elements: st.SearchStrategy[Any]) -> st.SearchStrategy[type]:
    """``mypy_extensions.TypedDict`` classes (total) with 1-3 fields of ``elements``."""
    return st.builds(
        lambda name, fields: make_mx_typed_dict(_TYPED_DICT_MODULE, name, fields),
        st.sampled_from(_TYPED_DICT_NAMES),
        st.dictionaries(st.sampled_from(_FIELD_NAMES), elements, min_size=1, max_size=3),
    )


def generic_types(elements: st.SearchStrategy[Any], typed_dict: bool = True) -> st.SearchStrategy[Any]:
    """The ``typing`` generics over ``elements``, and ``Union``s and ``TypedDict``s of them."""
    classes = st.one_of(builtin_types(), user_types())
    options: List[st.SearchStrategy[Any]] = [
        st.builds(_of, st.just(List), elements),
        st.builds(_of, st.just(Set), elements),
        st.builds(_of, st.just(FrozenSet), elements),
        st.builds(_of, st.just(Iterator), elements),
        st.builds(_of, st.just(Dict), elements, elements),
        st.builds(lambda ts: _of(Tuple, *ts), st.lists(elements, min_size=1, max_size=3)),
        st.just(Tuple[()]),
        st.builds(_of, st.just(Type), classes),
        st.builds(_of, st.just(Generator), elements, elements, elements),
        unions(elements),
    ]
    if typed_dict:
        options.append(typed_dicts(elements))
    return st.one_of(options)


def types(max_leaves: int = 8, typed_dict: bool = True) -> st.SearchStrategy[Any]:
    """Any type E1 lists, nested to any depth (bounded by ``max_leaves``)."""
    return st.recursive(
        leaf_types(), lambda inner: generic_types(inner, typed_dict=typed_dict), max_leaves=max_leaves
    )
