"""The kit's public strategies produce what they promise; and its reference model judges answers right."""

from __future__ import annotations

import collections.abc
import logging
import sys
import typing
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import monkeytype.encoding
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from conformance import sample_functions
from conformance import strategies as cs
from conformance.model import HistoryModel, RowKey, trace_key
from conformance.strategies.synthetic import SyntheticModules, is_valid_module_name
from tracestore import CallTrace, CallTraceRow, serialize_traces, traces_equal
from tracestore.lookup import get_func_in_module
from tracestore.typeinfo import is_mx_typed_dict, types_equal

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(trace=cs.call_traces())
def test_call_traces_round_trip_in_tracestore_and_monkeytype(trace: CallTrace) -> None:
    row = CallTraceRow.from_trace(trace)
    assert traces_equal(row.to_trace(), trace)
    duck: Any = trace  # MonkeyType's encoder takes any object with a CallTrace's fields
    theirs = monkeytype.encoding.CallTraceRow.from_trace(duck)
    assert (theirs.arg_types, theirs.return_type, theirs.yield_type) == row.as_tuple()[2:]
    assert traces_equal(theirs.to_trace(), trace)


@FAST
@given(func=cs.importable_functions())
def test_functions_are_found_again_by_name(func: Callable[..., Any]) -> None:
    assert get_func_in_module(func.__module__, func.__qualname__) is func


def test_sample_functions_cover_every_e1_shape() -> None:
    qualnames = {f.__qualname__ for f in sample_functions.FUNCTIONS}
    assert {
        "module_function",
        "generator_function",
        "Point.method",
        "Point.static_method",
        "Point.class_method",
        "Point.getter",
        "Outer.Inner.method",
    } <= qualnames
    for func in sample_functions.FUNCTIONS:
        assert get_func_in_module(func.__module__, func.__qualname__) is func


def _components(typ: Any) -> Iterator[Any]:
    """``typ`` and every type nested in it (generic arguments, TypedDict fields)."""
    yield typ
    nested = list(getattr(typ, "__args__", ()))
    if is_mx_typed_dict(typ):
        nested += list(typ.__annotations__.values())
    for inner in nested:
        if inner != ():
            yield from _components(inner)


SHAPES: Dict[str, Callable[[Any], bool]] = {
    "TypedDict": is_mx_typed_dict,
    "Tuple[()]": lambda t: t == typing.Tuple[()],
    "Generator": lambda t: typing.get_origin(t) is collections.abc.Generator,
    "Union": lambda t: typing.get_origin(t) is typing.Union,
    "Type": lambda t: typing.get_origin(t) is type,
    "Any": lambda t: t is typing.Any,
    "nested class": lambda t: t is sample_functions.Outer.Inner,
    "mappingproxy": lambda t: t is type(type.__dict__),
    "NoneType": lambda t: t is type(None),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_types_reach_every_shape(shape: str) -> None:
    def has_shape(typ: Any) -> bool:
        return any(SHAPES[shape](part) for part in _components(typ))

    found = find(
        cs.types(), has_shape, settings=settings(max_examples=5000, database=None, phases=[Phase.generate])
    )
    assert has_shape(found)


@pytest.mark.parametrize("typ", cs.SIMPLE_TYPES, ids=repr)
def test_simple_types_decode_to_equal_equally_encoded_types(typ: Any) -> None:
    trace = CallTrace(sample_functions.module_function, {"a": typ}, typ)
    decoded = CallTraceRow.from_trace(trace).to_trace()
    assert types_equal(decoded.arg_types["a"], typ)
    assert trace_key(decoded) == trace_key(trace)


@FAST
@given(trace=cs.unserializable_traces())
def test_unserializable_traces_are_rejected_by_both_encoders(trace: CallTrace) -> None:
    logging.disable(logging.CRITICAL)
    try:
        assert list(serialize_traces([trace])) == []
        duck: Any = trace
        assert list(monkeytype.encoding.serialize_traces([duck])) == []
    finally:
        logging.disable(logging.NOTSET)


@FAST
@given(names=cs.sibling_module_names())
def test_sibling_module_names_are_distinct_valid_and_never_real(names: List[str]) -> None:
    assert len(set(names)) == len(names) >= 1
    for name in names:
        assert is_valid_module_name(name)
        module = cs.REGISTRY.module(name)
        assert module.__doc__ is not None and "synthetic" in module.__doc__
        assert sys.modules[name] is module


@FAST
@given(names=cs.sibling_qualnames(), data=st.data())
def test_prefixes_are_strings_or_none(names: List[str], data: st.DataObject) -> None:
    prefix = data.draw(cs.prefixes_of(names))
    assert prefix is None or isinstance(prefix, str)


def test_real_modules_are_never_shadowed() -> None:
    for name in ("os", "json", "conformance", "sys", "os.fake"):
        assert not is_valid_module_name(name)
        with pytest.raises(ValueError, match="synthetic"):
            SyntheticModules().module(name)


def test_registry_is_bounded_and_nodes_nest() -> None:
    registry = SyntheticModules(capacity=2)
    first = registry.function("tskit.bound.a", "f")
    registry.function("tskit.bound.b", "f")
    registry.function("tskit.bound.c", "f")
    assert len(registry) == 2 and "tskit.bound.a" not in sys.modules
    assert first.__module__ == "tskit.bound.a"
    outer = registry.function("tskit.bound.c", "A")
    inner = registry.function("tskit.bound.c", "A.b")
    assert outer.__dict__["b"] is inner and inner.__qualname__ == "A.b"
    registry.remove_module("tskit.bound.b")
    registry.remove_module("tskit.bound.c")
    assert "tskit.bound.c" not in sys.modules


# -- the reference model --------------------------------------------------------------


def _ladder(n: int) -> List[CallTrace]:
    return [CallTrace(sample_functions.module_function, {f"k{i}": int}, int) for i in range(n)]


def _diagnose(
    model: HistoryModel, answer: List[RowKey], limit: int = 2000, prefix: Optional[str] = None
) -> List[Tuple[str, str]]:
    module = sample_functions.module_function.__module__
    return [(v.rule, v.message) for v in model.diagnose(module, prefix, limit, answer, ordered=True)]


def test_model_accepts_the_contract_answer_and_names_each_fault() -> None:
    a, b, c = _ladder(3)
    model = HistoryModel(distinct=True)
    for batch in ([a], [b], [c], [a]):
        model.add(batch)
    ka, kb, kc = (trace_key(t) for t in (a, b, c))
    assert model.expected(ka[0]) == [ka, kc, kb]
    assert _diagnose(model, [ka, kc, kb]) == []
    assert _diagnose(model, [ka, kc], limit=2) == []
    assert {r for r, _ in _diagnose(model, [kc, kb], limit=2)} == {"S5"}  # kept a's first position
    assert {r for r, _ in _diagnose(model, [kb, kc, ka])} == {"S15"}
    assert {r for r, _ in _diagnose(model, [ka, kc, kb, ka])} == {"S6"}
    assert {r for r, _ in _diagnose(model, [ka], limit=2)} == {"S4"}
    assert {r for r, _ in _diagnose(model, [ka, kc, kb], limit=2)} == {"S4"}
    assert {r for r, _ in _diagnose(model, [ka], prefix="x")} == {"S3"}
    assert {r for r, _ in _diagnose(model, [("other.module", *ka[1:])], limit=1)} == {"S2"}


def test_model_counts_duplicates_when_not_distinct() -> None:
    a, b = _ladder(2)
    model = HistoryModel(distinct=False)
    for batch in ([a], [b], [a]):
        model.add(batch)
    ka, kb = trace_key(a), trace_key(b)
    assert model.expected(ka[0]) == [ka, kb, ka]
    assert _diagnose(model, [ka, kb, ka]) == []
    assert {r for r, _ in _diagnose(model, [ka, kb])} == {"S6"}


def test_model_skips_unserializable_traces() -> None:
    model = HistoryModel()
    logging.disable(logging.CRITICAL)
    try:
        model.add([CallTrace(sample_functions.module_function, {"a": 42}), *_ladder(1)])  # type: ignore[dict-item]
    finally:
        logging.disable(logging.NOTSET)
    assert len(model.history) == 1
