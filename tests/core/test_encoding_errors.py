"""E4 (serialize_traces logs, never raises) and E5 (decode errors are clear)."""

from __future__ import annotations

import functools
import logging
import sys
import types
from typing import Any, Dict, Iterator, List

import pytest

from tracestore import (
    CallTrace,
    CallTraceRow,
    DecodeError,
    InvalidTypeError,
    MalformedRowError,
    NameLookupError,
    serialize_traces,
)
from tracestore.encoding import arg_types_from_json, type_from_json


def good(x: int) -> int:
    return x


class _RaisingQualname(type):
    def __getattribute__(cls, name: str) -> Any:
        if name == "__qualname__":
            raise RuntimeError("no qualname for you")
        return super().__getattribute__(name)


class Unnameable(metaclass=_RaisingQualname):
    pass


BAD_TRACES: Dict[str, CallTrace] = {
    "partial as func": CallTrace(functools.partial(good, 1), {"x": int}),
    "non-type among arg types": CallTrace(good, {"x": 42}),  # type: ignore[dict-item]
    "non-type as return type": CallTrace(good, {"x": int}, "int"),  # type: ignore[arg-type]
    "type whose __qualname__ raises": CallTrace(good, {"x": Unnameable}),
    "arg_types not a dict": CallTrace(good, [("x", int)]),  # type: ignore[arg-type]
}


@pytest.mark.rule("E4")
@pytest.mark.parametrize("kind", sorted(BAD_TRACES))
def test_E4_bad_trace_is_logged_once_and_the_rest_kept(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    """E4: one bad trace among good ones: good rows in order, one ERROR record with traceback."""
    goods = [CallTrace(good, {"x": t}, t) for t in (int, str, bytes)]
    traces = [goods[0], BAD_TRACES[kind], goods[1], goods[2]]
    with caplog.at_level(logging.ERROR, logger="tracestore"):
        rows = list(serialize_traces(traces))
    assert rows == [CallTraceRow.from_trace(t) for t in goods]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].exc_info is not None


@pytest.mark.rule("E4")
def test_E4_every_bad_trace_logged_once_each(caplog: pytest.LogCaptureFixture) -> None:
    """E4: several different failures in one iterable: one log record each."""
    with caplog.at_level(logging.ERROR, logger="tracestore"):
        rows = list(serialize_traces([*BAD_TRACES.values(), CallTrace(good, {"x": int})]))
    assert len(rows) == 1
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == len(BAD_TRACES)


@pytest.mark.rule("E4")
def test_E4_serialize_traces_is_lazy() -> None:
    """E4: rows are produced as the input is consumed, not all up front."""
    consumed: List[int] = []

    def source() -> Iterator[CallTrace]:
        for i, t in enumerate((int, str, bytes)):
            consumed.append(i)
            yield CallTrace(good, {"x": t})

    rows = serialize_traces(source())
    assert consumed == []
    next(rows)
    assert consumed == [0]


def _row(
    module: str = __name__, qualname: str = "good", arg_types: str = "{}", ret: Any = None
) -> CallTraceRow:
    return CallTraceRow(module, qualname, arg_types, ret, None)


def _temporary_module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(source, module.__dict__)
    sys.modules[name] = module
    return module


@pytest.mark.rule("E5")
def test_E5_removed_function_names_the_missing_name() -> None:
    """E5: the function is gone: NameLookupError naming the qualname."""
    module = _temporary_module("tracestore_e5_mod", "def gone(x): pass\n")
    row = CallTraceRow.from_trace(CallTrace(module.gone, {"x": int}))
    del module.gone
    with pytest.raises(NameLookupError, match="gone") as raised:
        row.to_trace()
    assert raised.value.module == "tracestore_e5_mod"
    assert raised.value.qualname == "gone"


@pytest.mark.rule("E5")
def test_E5_removed_module_names_the_module() -> None:
    """E5: the module cannot be imported any more: NameLookupError naming it."""
    with pytest.raises(NameLookupError, match="no_such_module_xyz") as raised:
        _row(module="no_such_module_xyz").to_trace()
    assert raised.value.module == "no_such_module_xyz"


@pytest.mark.rule("E5")
def test_E5_removed_class_names_the_class() -> None:
    """E5: a type's class is gone: NameLookupError naming the class."""
    module = _temporary_module("tracestore_e5_types", "class Gone: pass\n")
    row = CallTraceRow.from_trace(CallTrace(good, {"x": module.Gone}))
    del module.Gone
    with pytest.raises(NameLookupError, match="Gone"):
        row.to_trace()


BROKEN_ROWS = {
    "corrupt JSON": (_row(arg_types='{"x": {"module": "builtins"'), MalformedRowError),
    "type dict missing a key": (_row(arg_types='{"x": {"module": "builtins"}}'), MalformedRowError),
    "type dict not an object": (_row(arg_types='{"x": 3}'), MalformedRowError),
    "null arg_types": (_row(arg_types="null"), MalformedRowError),
    "arg_types a list": (_row(arg_types="[]"), MalformedRowError),
    "wrong-arity generic": (
        _row(
            arg_types='{"x": {"elem_types": [{"module": "builtins", "qualname": "int"}, '
            '{"module": "builtins", "qualname": "str"}], "module": "typing", "qualname": "List"}}'
        ),
        InvalidTypeError,
    ),
    "name is not a type": (_row(ret='{"module": "os", "qualname": "getcwd"}'), InvalidTypeError),
    "name is not a function": (_row(qualname="BROKEN_ROWS"), InvalidTypeError),
    "elem_types on a plain class": (
        _row(ret='{"elem_types": [], "module": "builtins", "qualname": "int"}'),
        InvalidTypeError,
    ),
    "field is not text": (CallTraceRow(__name__, "good", 5, None, None), MalformedRowError),  # type: ignore[arg-type]
    "TypedDict without fields": (
        _row(ret='{"is_typed_dict": true, "module": "m", "qualname": "T"}'),
        MalformedRowError,
    ),
}


@pytest.mark.rule("E5")
@pytest.mark.parametrize("kind", sorted(BROKEN_ROWS))
def test_E5_broken_row_raises_documented_error(kind: str) -> None:
    """E5: every broken row raises its DecodeError subclass, never a bare builtin error."""
    row, expected = BROKEN_ROWS[kind]
    with pytest.raises(DecodeError) as raised:
        row.to_trace()
    assert type(raised.value) is expected
    assert str(raised.value)


@pytest.mark.rule("E5")
def test_E5_json_helpers_raise_decode_errors() -> None:
    """E5: the public decode helpers share the same errors."""
    with pytest.raises(MalformedRowError):
        type_from_json("not json")
    with pytest.raises(MalformedRowError):
        arg_types_from_json("null")
    with pytest.raises(NameLookupError):
        type_from_json('{"module": "builtins", "qualname": "NoSuchBuiltin"}')
