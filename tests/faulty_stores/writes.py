"""Faulty stores that store the wrong thing: lossy rows (S1), bad batches (S7), live dicts (S13)."""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar, Dict, FrozenSet, Iterable, List, Tuple

from tests.faulty_stores.baseline import BaselineStore
from tracestore import CallTraceRow, serialize_traces

logger = logging.getLogger(__name__)


class DropsReturnTypeStore(BaselineStore):
    """S1: the return type is not stored; traces come back with ``return_type=None``."""

    breaks: ClassVar[str] = "S1"
    # Every check that compares a decoded trace with the one added sees the lost return type.
    # The kit's newer inputs (look-alike names, huge limits, prefixes after names vanish) also fail S4.
    also_fails: ClassVar[FrozenSet[str]] = frozenset(
        {"E1", "E2", "E3", "E5", "S4", "S5", "S6", "S7", "S9", "S11", "S13", "S15"}
    )

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        return [
            CallTraceRow(row.module, row.qualname, row.arg_types, None, row.yield_type)
            for row in super()._serialize(traces)
        ]


class DropsYieldTypeStore(BaselineStore):
    """S1: the yield type is not stored (no column for it); generators come back without it."""

    breaks: ClassVar[str] = "S1"
    # The checks that add generator traces and compare them with what comes back see the lost yield type.
    # The kit's newer inputs (look-alike names, huge limits, prefixes after names vanish) also fail S5, S15.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E1", "E2", "E3", "S5", "S7", "S13", "S15"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        return [
            CallTraceRow(row.module, row.qualname, row.arg_types, row.return_type, None)
            for row in super()._serialize(traces)
        ]


class DedupByFunctionStore(BaselineStore):
    """S1: results are deduplicated by function (module, qualname): a trace is lost once a later
    trace of the same function with other types is added."""

    breaks: ClassVar[str] = "S1"
    # Checks adding several traces of one function (round trips, counts, recency, writers) miss merged ones.
    # The kit's newer inputs (look-alike names, huge limits, prefixes after names vanish) also fail S7.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E1", "S4", "S5", "S7", "S11", "S15"})

    def _results(self, newest_first: List[CallTraceRow]) -> List[CallTraceRow]:
        latest: Dict[Tuple[str, str], CallTraceRow] = {}
        for row in newest_first:
            latest.setdefault((row.module, row.qualname), row)
        return list(latest.values())


def _outer_only(encoded: Dict[str, Any]) -> Dict[str, Any]:
    if encoded.get("is_typed_dict"):
        return encoded
    return {key: value for key, value in encoded.items() if key != "elem_types"}


class FlattensGenericsStore(BaselineStore):
    """S1: argument types are stored without their parameters: ``List[int]`` comes back as ``List``."""

    breaks: ClassVar[str] = "S1"
    # The checks that add generic argument types and compare them with what comes back see them flattened.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E1", "E2", "E3", "S7", "S13"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        rows = []
        for row in super()._serialize(traces):
            args = {name: _outer_only(typ) for name, typ in json.loads(row.arg_types).items()}
            arg_types = json.dumps(args, sort_keys=True)
            rows.append(CallTraceRow(row.module, row.qualname, arg_types, row.return_type, row.yield_type))
        return rows


class RaisesOnBadTraceStore(BaselineStore):
    """S7: encodes with ``CallTraceRow.from_trace`` directly, so one unserializable trace raises."""

    breaks: ClassVar[str] = "S7"
    # E4 is checked through add, which raises instead of logging the bad trace.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E4"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        return [CallTraceRow.from_trace(trace) for trace in traces]


class LosesBatchStore(BaselineStore):
    """S7: one unserializable trace is logged, but the whole batch with it is dropped."""

    breaks: ClassVar[str] = "S7"
    # One ERROR record for the whole batch, not one per unserializable trace.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E4"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        try:
            return [CallTraceRow.from_trace(trace) for trace in traces]
        except Exception:
            logger.exception("Failed to serialize a batch of traces")
            return []


class StopsAtFirstBadStore(BaselineStore):
    """S7: stores the traces before the first unserializable one, logs it, and drops the rest."""

    breaks: ClassVar[str] = "S7"
    # The unserializable traces after the first are never logged.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E4"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        rows = []
        for trace in traces:
            try:
                rows.append(CallTraceRow.from_trace(trace))
            except Exception:
                logger.exception("Failed to serialize trace")
                break
        return rows


class SilentlySkipsStore(BaselineStore):
    """S7: skips unserializable traces without logging them (E4 asks for one ERROR log each)."""

    breaks: ClassVar[str] = "S7"
    # The unserializable traces are not logged at all.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E4"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        rows = []
        for trace in traces:
            try:
                rows.append(CallTraceRow.from_trace(trace))
            except Exception:
                continue
        return rows


class LiveArgTypesStore(BaselineStore):
    """S13: keeps the trace objects themselves and encodes them when read, so later edits show."""

    breaks: ClassVar[str] = "S13"
    # It serializes when read, so unserializable traces are logged by every read, not once by add.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E4", "S7"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        return list(traces)

    def _snapshot(self) -> List[CallTraceRow]:
        return list(serialize_traces(super()._snapshot()))
