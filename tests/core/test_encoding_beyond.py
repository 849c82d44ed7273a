"""Types MonkeyType 23.3.0 cannot encode: tracestore's documented forms (E1, E2, E3)."""

from __future__ import annotations

import sys
import typing
from typing import Any, Dict, List, Literal, Optional, Tuple

import pytest
from monkeytype.encoding import type_from_json as monkeytype_type_from_json
from monkeytype.encoding import type_to_json as monkeytype_type_to_json
from monkeytype.exceptions import MonkeyTypeError

from tracestore import CallTrace, CallTraceRow, EncodeError
from tracestore.encoding import type_from_json, type_to_json


class Movie(typing.TypedDict):
    title: str
    year: int


def f(x: Any) -> Any:
    return x


BEYOND: Dict[str, Any] = {
    "list[int]": list[int],
    "dict[str, list[int]]": dict[str, list[int]],
    "tuple[()]": tuple[()],
    "Tuple[int, ...]": Tuple[int, ...],
    "tuple[str, ...]": tuple[str, ...],
    "Literal[1, 'a', True, None]": Literal[1, "a", True, None],
    "Optional[Literal['x']]": Optional[Literal["x"]],
    "List[Literal[-3]]": List[Literal[-3]],
    "stdlib TypedDict": Movie,
}
if sys.version_info >= (3, 10):
    BEYOND["int | str"] = eval("int | str")
    BEYOND["list[int | None]"] = eval("list[int | None]")
MONKEYTYPE_READS_AS: Dict[str, Any] = {
    "list[int]": list,
    "dict[str, list[int]]": dict,
    "tuple[()]": tuple,
    "tuple[str, ...]": tuple,
    "stdlib TypedDict": Movie,
    "int | str": typing.Union[int, str],
    "list[int | None]": list,
}


@pytest.mark.rule("E1")
@pytest.mark.parametrize("name", sorted(BEYOND))
def test_E1_beyond_monkeytype_round_trips(name: str) -> None:
    """E1: each supported type beyond MonkeyType decodes to an equal type."""
    trace = CallTrace(f, {"x": BEYOND[name]}, BEYOND[name])
    assert CallTraceRow.from_trace(trace).to_trace() == trace


@pytest.mark.rule("E2")
@pytest.mark.parametrize("name", sorted(BEYOND))
def test_E2_beyond_monkeytype_rows_are_canonical(name: str) -> None:
    """E2: re-encoding the decoded trace gives the same row."""
    row = CallTraceRow.from_trace(CallTrace(f, {"x": BEYOND[name]}))
    assert CallTraceRow.from_trace(row.to_trace()) == row


@pytest.mark.rule("E3")
@pytest.mark.parametrize("name", sorted(BEYOND))
def test_E3_monkeytype_decoder_survives_our_json(name: str) -> None:
    """E3: MonkeyType's decoder reads our form as documented, or raises its own error."""
    text = type_to_json(BEYOND[name])
    if name in MONKEYTYPE_READS_AS:
        assert monkeytype_type_from_json(text) == MONKEYTYPE_READS_AS[name]
    else:
        with pytest.raises(MonkeyTypeError):
            monkeytype_type_from_json(text)


@pytest.mark.rule("E3")
def test_E3_stdlib_typeddict_is_written_as_monkeytype_writes_it() -> None:
    """E3: where MonkeyType can write a type, ours is the same text."""
    assert type_to_json(Movie) == monkeytype_type_to_json(Movie)


@pytest.mark.rule("E4")
@pytest.mark.parametrize("bad", [Literal[1.5], Literal[b"x"]], ids=["float", "bytes"])
def test_E4_unsupported_literal_values_fail_to_encode(bad: Any) -> None:
    """E4: a Literal we cannot store is an EncodeError (which serialize_traces logs)."""
    with pytest.raises(EncodeError, match="Literal"):
        type_to_json(bad)


@pytest.mark.rule("E3")
def test_E3_union_argument_order_is_kept_despite_equal_types() -> None:
    """E3: Union[int, str] == Union[str, int], yet each keeps its own JSON (cache is by identity)."""
    a: Any = typing.Union[int, str]
    b: Any = typing.Union[str, int]
    assert a == b
    assert type_to_json(a) == monkeytype_type_to_json(a)
    assert type_to_json(b) == monkeytype_type_to_json(b)
    assert type_to_json(a) != type_to_json(b)
    assert type_from_json(type_to_json(b)) == b
