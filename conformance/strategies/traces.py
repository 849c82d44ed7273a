"""Whole call traces (rule E1) and traces that cannot be serialized (rules E4, S7)."""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, List, Optional

from hypothesis import strategies as st

from conformance.sample_functions import FUNCTIONS
from conformance.strategies.functions import importable_functions
from conformance.strategies.types import types
from tracestore import CallTrace

__all__ = [
    "QualnameRaises",
    "QualnameRaisesMeta",
    "arg_names",
    "call_traces",
    "mixed_traces",
    "unserializable_traces",
]

ARG_NAMES = ("self", "cls", "a", "b", "value", "x_1", "_", "données", "名前")


_ARG_NAMES = st.one_of(
    st.sampled_from(ARG_NAMES), st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)
)
_DEFAULT_TYPES = types()
_DEFAULT_FUNCTIONS = importable_functions()


def arg_names() -> st.SearchStrategy[str]:
    """Argument names: common ones, non-ASCII identifiers, and random identifiers."""
    return _ARG_NAMES


@st.composite
def _traces(
    draw: st.DrawFn,
    functions: st.SearchStrategy[Callable[..., Any]],
    arg_types: st.SearchStrategy[Dict[str, Any]],
    optional_types: st.SearchStrategy[Any],
) -> CallTrace:
    return CallTrace(draw(functions), draw(arg_types), draw(optional_types), draw(optional_types))


def call_traces(
    functions: Optional[st.SearchStrategy[Callable[..., Any]]] = None,
    type_strategy: Optional[st.SearchStrategy[Any]] = None,
    max_args: int = 3,
) -> st.SearchStrategy[CallTrace]:
    """``tracestore.CallTrace``s of a drawn function, up to ``max_args`` argument types, and an
    optional return and yield type. Defaults: :func:`importable_functions`, :func:`types`."""
    element = type_strategy if type_strategy is not None else _DEFAULT_TYPES
    return _traces(
        functions if functions is not None else _DEFAULT_FUNCTIONS,
        st.dictionaries(_ARG_NAMES, element, max_size=max_args),
        st.none() | element,
    )


class QualnameRaisesMeta(type):
    """Metaclass of types whose ``__qualname__`` raises: no encoder can name them."""

    def __getattribute__(cls, name: str) -> Any:
        if name == "__qualname__":
            raise RuntimeError("this type's __qualname__ raises, on purpose")
        return super().__getattribute__(name)


class QualnameRaises(metaclass=QualnameRaisesMeta):
    """A type whose ``__qualname__`` raises."""


def _non_types() -> st.SearchStrategy[Any]:
    # Values without a ``__qualname__``: no encoder (MonkeyType's included) takes them for types.
    return st.one_of(st.integers(), st.text(max_size=5), st.builds(object), st.just([int]))


@st.composite
def unserializable_traces(draw: st.DrawFn) -> CallTrace:
    """A trace no encoder can serialize: a ``functools.partial`` as ``func``, a non-type among
    its types, or a type whose ``__qualname__`` raises."""
    func = draw(st.sampled_from(FUNCTIONS))
    kind = draw(st.sampled_from(["partial", "non-type arg", "non-type return", "raising qualname"]))
    if kind == "partial":
        return CallTrace(functools.partial(func), {"a": int}, int)
    if kind == "non-type arg":
        return CallTrace(func, {"a": int, "b": draw(_non_types())}, int)
    if kind == "non-type return":
        return CallTrace(func, {"a": int}, draw(_non_types()))
    return CallTrace(func, {"a": QualnameRaises}, None)


def mixed_traces(
    good: Optional[st.SearchStrategy[CallTrace]] = None, max_size: int = 8
) -> st.SearchStrategy[List[Any]]:
    """Lists of good traces (default :func:`call_traces`) with unserializable ones among them."""
    return st.lists(
        st.one_of(good if good is not None else call_traces(), unserializable_traces()),
        max_size=max_size,
    )
