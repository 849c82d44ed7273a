"""Checks of failure handling: bad traces in add (S7, E4), vanished names (S9, E5)."""

from __future__ import annotations

import itertools
import logging
from typing import Any, List, Optional, Set, Tuple

import pytest
from hypothesis import given

from conformance import strategies as cs
from conformance.checks.base import KitBase, StoreT
from conformance.deadline import unwrap
from conformance.model import RowKey, describe, trace_key
from conformance.sample_functions import module_function
from conformance.strategies.synthetic import REGISTRY
from tracestore import CallTrace, DecodeError, traces_equal

_GOOD_TRACES = cs.call_traces(type_strategy=cs.simple_types())
MONKEYTYPE_DECODE_ERRORS = ("monkeytype.exceptions.NameLookupError", "monkeytype.exceptions.InvalidTypeError")
"""The decode errors MonkeyType 23.3.0 documents (``monkeytype.util``), accepted from its own rows (E5)."""
VANISHING_ROOT = "tskit_vanishing"
VANISH_KINDS = ("function", "enclosing class", "type", "module")
_counter = itertools.count()


class _ErrorRecords(logging.Handler):
    """Collects the ERROR records that carry a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


def _key_or_none(trace: Any) -> Optional[RowKey]:
    """The trace's key, or ``None`` for a trace that cannot be serialized."""
    try:
        return trace_key(trace)
    except Exception:
        return None


class _Vanishing:
    """A runtime module with traces of a function, an enclosing class and a type that can vanish."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.module = f"{VANISHING_ROOT}.n{next(_counter)}"
        keeper = REGISTRY.function(self.module, "keeper")
        self.missing = {
            "function": "gone",
            "enclosing class": "Gone",
            "type": "VanishingType",
            "module": self.module,
        }[kind]
        func = REGISTRY.function(self.module, "Gone.method" if kind == "enclosing class" else "gone")
        vanishing_type = REGISTRY.klass(self.module, "VanishingType")
        self.good = [CallTrace(module_function, {"a": int}, int)]
        if kind == "type":
            self.bad = CallTrace(keeper, {"a": vanishing_type}, None)
        else:
            self.bad = CallTrace(func, {"a": int}, str)
            if kind != "module":
                self.good.append(CallTrace(keeper, {"a": int}, int))
        self.traces = [self.good[0], self.bad, *self.good[1:]]

    def vanish(self) -> None:
        if self.kind == "module":
            REGISTRY.remove_module(self.module)
        else:
            REGISTRY.remove_name(self.module, self.missing)

    def cleanup(self) -> None:
        REGISTRY.remove_module(self.module)


class FailureChecks(KitBase[StoreT]):
    # -- S7 / E4 -----------------------------------------------------------------

    def _add_mixed(self, factory: pytest.TempPathFactory, traces: List[Any], rule: str) -> List[RowKey]:
        """Add ``traces`` in one call; check each bad one was logged once at ERROR with its
        traceback (E4, and S7 through it); return the keys of the good ones the store lacks."""
        keys = [_key_or_none(t) for t in traces]
        good = [key for key in keys if key is not None]
        bad = len(keys) - len(good)
        handler = _ErrorRecords()
        root = logging.getLogger()
        with self.fresh_store(factory) as session:
            root.addHandler(handler)
            try:
                session.store.add(iter(traces))
            finally:
                root.removeHandler(handler)
            stored: Set[RowKey] = {key for module in {k[0] for k in good} for key in session.keys(module)}
        assert len(handler.records) == bad, (
            f"{rule}: {bad} unserializable trace(s) must give {bad} ERROR record(s) with a traceback, "
            f"not {len(handler.records)}: {[r.getMessage() for r in handler.records]}"
        )
        return [key for key in good if key not in stored]

    @pytest.mark.rule("S7")
    def test_S7_add_skips_unserializable_traces(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S7: add with unserializable traces among good ones stores every good one, logs each bad
        one as E4 says, and does not raise."""

        @self.hypothesis_settings()
        @given(traces=cs.mixed_traces(_GOOD_TRACES))
        def check(traces: List[Any]) -> None:
            missing = self._add_mixed(tmp_path_factory, traces, "S7")
            assert not missing, (
                f"S7: serializable traces added next to unserializable ones were lost: "
                f"{[describe(k) for k in missing]}"
            )

        check()

    @pytest.mark.rule("E4")
    def test_E4_add_logs_each_bad_trace_once(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """E4: add logs each unserializable trace once, at ERROR, with its traceback."""

        @self.hypothesis_settings()
        @given(traces=cs.mixed_traces(_GOOD_TRACES))
        def check(traces: List[Any]) -> None:
            self._add_mixed(tmp_path_factory, traces, "E4")

        check()

    # -- S9 / E5 -----------------------------------------------------------------

    def _vanished(self, factory: pytest.TempPathFactory, kind: str, check: Any) -> None:
        case = _Vanishing(kind)
        try:
            with self.fresh_store(factory) as session:
                session.store.add(case.traces)
                case.vanish()
                check(session, case)
        finally:
            case.cleanup()

    @pytest.mark.rule("S9")
    def test_S9_filter_does_not_decode(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S9: a stored trace whose function, class or type vanished does not make filter raise;
        only its own thunk fails to decode, and every other thunk still decodes."""

        def check(session: Any, case: _Vanishing) -> None:
            thunks = []
            for module in (case.module, module_function.__module__):
                try:
                    thunks.extend(session.store.filter(module))
                except Exception as exc:
                    pytest.fail(f"S9: filter({module!r}) raised {exc!r} because {case.missing!r} vanished")
            assert len(thunks) == len(case.traces), (
                f"S9: filter must still return all {len(case.traces)} traces after {case.missing!r} "
                f"vanished ({case.kind}), not {len(thunks)}"
            )
            decoded, failed = _decode_each(thunks)
            assert len(failed) == 1, (
                f"S9: exactly the trace naming {case.missing!r} must fail to decode: {failed}"
            )
            for trace in case.good:
                assert any(traces_equal(trace, d) for d in decoded), f"S9: {trace!r} no longer decodes"

        for kind in VANISH_KINDS:
            self._vanished(tmp_path_factory, kind, check)

    @pytest.mark.rule("S9")
    def test_S9_prefix_filter_does_not_decode(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """S9: filter with a qualname prefix (and a limit) on a store where a function, class or type
        vanished returns every matching trace without decoding."""

        def check(session: Any, case: _Vanishing) -> None:
            qualnames = [
                trace.func.__qualname__ for trace in case.traces if trace.func.__module__ == case.module
            ]
            for prefix in dict.fromkeys(["", "zzz", *qualnames, *(q[:1] for q in qualnames)]):
                for limit in (1, 2000):
                    expected = min(limit, sum(q.startswith(prefix) for q in qualnames))
                    got = len(session.store.filter(case.module, prefix, limit))
                    assert got == expected, (
                        f"S9: after {case.missing!r} vanished ({case.kind}), filter({case.module!r}, "
                        f"{prefix!r}, {limit}) returned {got} traces, not {expected}"
                    )

        for kind in VANISH_KINDS:
            self._vanished(tmp_path_factory, kind, check)

    @pytest.mark.rule("E5")
    def test_E5_decode_error_names_missing_name(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """E5: filter returns the thunk of a trace whose function, class, type or module vanished,
        and its to_trace raises a documented decode error naming what is missing, never a trace.

        Accepted errors: a subclass of ``tracestore.DecodeError``; and, for a thunk that is
        MonkeyType's own row (a ``monkeytype.encoding.CallTraceRow``), the errors MonkeyType 23.3.0
        documents for a failed look-up (``monkeytype.util.get_func_in_module`` and
        ``get_name_in_module``): ``monkeytype.exceptions.NameLookupError`` and
        ``monkeytype.exceptions.InvalidTypeError``.
        """

        def check(session: Any, case: _Vanishing) -> None:
            call = f"filter({case.module!r})"
            try:
                thunks = list(session.store.filter(case.module))
            except Exception as exc:
                raise AssertionError(
                    f"E5: {call} raised {type(exc).__name__}: {exc} (after {case.missing!r} vanished); "
                    "the bad trace's thunk must be returned, and raise only when decoded"
                ) from exc
            stored = [t for t in case.traces if t.func.__module__ == case.module]
            assert len(thunks) == len(stored), (
                f"E5: {call} returned {len(thunks)} thunk(s), not the {len(stored)} added, after "
                f"{case.missing!r} vanished ({case.kind}): the bad trace's thunk must be among them"
            )
            raised = 0
            for thunk in thunks:
                try:
                    trace = thunk.to_trace()
                except Exception as exc:
                    raised += 1
                    _check_decode_error(exc, thunk, case)
                    continue
                assert any(traces_equal(trace, good) for good in case.good), (
                    f"E5: a trace naming vanished {case.missing!r} decoded to {trace!r}"
                )
            assert raised == 1, (
                f"E5: exactly one thunk of {call} (the trace naming vanished {case.missing!r}) must "
                f"raise in to_trace(), not {raised}"
            )

        for kind in VANISH_KINDS:
            self._vanished(tmp_path_factory, kind, check)


def _is_monkeytype_row(thunk: Any) -> bool:
    return any(
        (cls.__module__, cls.__qualname__) == ("monkeytype.encoding", "CallTraceRow")
        for cls in type(unwrap(thunk)).__mro__
    )


def _check_decode_error(exc: Exception, thunk: Any, case: _Vanishing) -> None:
    """E5: ``exc`` is an accepted decode error (see the E5 test) and names the missing name."""
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if not isinstance(exc, DecodeError):
        accepted = "a tracestore.DecodeError subclass"
        if _is_monkeytype_row(thunk):
            accepted += f" or one of {', '.join(MONKEYTYPE_DECODE_ERRORS)} (MonkeyType's own row)"
        assert kind in MONKEYTYPE_DECODE_ERRORS and _is_monkeytype_row(thunk), (
            f"E5: decoding a trace naming vanished {case.missing!r} raised {kind}: {exc}; expected {accepted}"
        )
    assert case.missing in str(exc), (
        f"E5: the decode error must name the missing {case.kind} {case.missing!r}: {kind}: {exc}"
    )


def _decode_each(thunks: List[Any]) -> Tuple[List[Any], List[str]]:
    decoded: List[Any] = []
    failed: List[str] = []
    for thunk in thunks:
        try:
            decoded.append(thunk.to_trace())
        except Exception as exc:
            failed.append(repr(exc))
    return decoded, failed
