"""E1-E3 as properties over generated traces, and differentially against MonkeyType 23.3.0."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from monkeytype.encoding import CallTraceRow as MonkeyTypeRow

from conformance import profiles
from conformance.strategies import call_traces, sample_functions, types
from tracestore import CallTrace, CallTraceRow, traces_equal
from tracestore.encoding import type_from_json, type_to_json
from tracestore.typeinfo import types_equal

DIFFERENTIAL_EXAMPLES = {"dev": 100, "ci": 300, "thorough": 5000}


def _examples(factor: int = 1) -> settings:
    return profiles.current(max_examples=profiles.current().max_examples * factor)


def _differential() -> settings:
    return profiles.current(max_examples=DIFFERENTIAL_EXAMPLES[profiles.current_name()])


@pytest.mark.rule("E1")
@given(trace=call_traces())
@_examples(factor=4)
def test_E1_row_round_trip(trace: CallTrace) -> None:
    """E1: encoding then decoding a trace gives an equal trace."""
    assert CallTraceRow.from_trace(trace).to_trace() == trace


@pytest.mark.rule("E1")
@given(trace=call_traces(functions=sample_functions()))
@_examples(factor=2)
def test_E1_every_function_shape_round_trips(trace: CallTrace) -> None:
    """E1: methods, nested classes, static/class methods, property getters, generators."""
    decoded = CallTraceRow.from_trace(trace).to_trace()
    assert decoded.func is trace.func
    assert decoded == trace


@pytest.mark.rule("E1")
@given(typ=types(max_leaves=12))
@_examples(factor=4)
def test_E1_type_round_trip(typ: Any) -> None:
    """E1: every type shape, nested to depth, decodes to an equal type."""
    assert types_equal(type_from_json(type_to_json(typ)), typ)


@pytest.mark.rule("E2")
@given(trace=call_traces())
@_examples(factor=4)
def test_E2_rows_are_canonical(trace: CallTrace) -> None:
    """E2: decoding a row and encoding the result gives the same row."""
    row = CallTraceRow.from_trace(trace)
    assert CallTraceRow.from_trace(row.to_trace()) == row


@pytest.mark.rule("E3")
@given(trace=call_traces())
@_differential()
def test_E3_json_is_byte_identical_to_monkeytype(trace: CallTrace) -> None:
    """E3: every field is exactly the text MonkeyType 23.3.0 writes for the same trace."""
    ours = CallTraceRow.from_trace(trace)
    theirs = MonkeyTypeRow.from_trace(trace)  # type: ignore[arg-type]
    assert ours.as_tuple() == (
        theirs.module,
        theirs.qualname,
        theirs.arg_types,
        theirs.return_type,
        theirs.yield_type,
    )


@pytest.mark.rule("E3")
@given(trace=call_traces())
@_differential()
def test_E3_rows_decode_on_the_other_side(trace: CallTrace) -> None:
    """E3: MonkeyType decodes our rows, and we decode MonkeyType's, to the same trace."""
    ours = CallTraceRow.from_trace(trace)
    theirs = MonkeyTypeRow.from_trace(trace)  # type: ignore[arg-type]
    assert traces_equal(MonkeyTypeRow(*ours.as_tuple()).to_trace(), trace)
    fields = (theirs.module, theirs.qualname, theirs.arg_types, theirs.return_type, theirs.yield_type)
    assert CallTraceRow(*fields).to_trace() == trace
