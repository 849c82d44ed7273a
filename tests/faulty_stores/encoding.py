"""Faulty stores with their own encoding step: a lossy encoder (E1), rows not canonical (E2), not
MonkeyType's text (E3), bad-trace logging (E4)."""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar, Dict, FrozenSet, Iterable, Iterator, List, Optional

from tests.faulty_stores.baseline import BaselineStore
from tracestore import CallTraceRow

logger = logging.getLogger(__name__)


_PLAIN_DICT = {
    "module": "typing",
    "qualname": "Dict",
    "elem_types": [{"module": "builtins", "qualname": "str"}, {"module": "typing", "qualname": "Any"}],
}


def _typed_dicts_as_dicts(encoded: Any) -> Any:
    if isinstance(encoded, dict):
        if encoded.get("is_typed_dict"):
            return dict(_PLAIN_DICT)
        return {key: _typed_dicts_as_dicts(value) for key, value in encoded.items()}
    if isinstance(encoded, list):
        return [_typed_dicts_as_dicts(element) for element in encoded]
    return encoded


class TypedDictAsDictStore(BaselineStore):
    """E1: its encoder, written before MonkeyType encoded ``TypedDict``s, stores each as
    ``Dict[str, Any]``, so a trace with a ``TypedDict`` comes back with a plain ``Dict``."""

    breaks: ClassVar[str] = "E1"
    # E2 and E3 decode each returned row: the trace of a TypedDict row matches no added trace.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E2", "E3"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        dumps = lambda value: json.dumps(_typed_dicts_as_dicts(value), sort_keys=True)  # noqa: E731
        return [_reencoded(row, dumps) for row in super()._serialize(traces)]


def _reencoded(row: CallTraceRow, dumps: Any) -> CallTraceRow:
    """``row`` with each JSON field parsed and written again by ``dumps``."""

    def again(text: Optional[str]) -> Optional[str]:
        return None if text is None else str(dumps(json.loads(text)))

    return CallTraceRow(
        row.module, row.qualname, str(again(row.arg_types)), again(row.return_type), again(row.yield_type)
    )


class CompactJsonStore(BaselineStore):
    """E2: its encoder writes JSON with ``separators=(",", ":")`` to save space, so a returned row is
    not the row its own trace encodes to (MonkeyType's ``json.dumps`` uses the default ``", "``)."""

    breaks: ClassVar[str] = "E2"
    # A row that is not canonical is not MonkeyType's text either.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E3"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        dumps = lambda value: json.dumps(value, sort_keys=True, separators=(",", ":"))  # noqa: E731
        return [_reencoded(row, dumps) for row in super()._serialize(traces)]


class UnsortedKeysStore(BaselineStore):
    """E2: its encoder writes JSON without ``sort_keys=True`` (MonkeyType's ``type_to_json`` sorts
    them), so keys come in insertion order: ``{"module": ..., "qualname": ..., "elem_types": ...}``."""

    breaks: ClassVar[str] = "E2"
    # A row that is not canonical is not MonkeyType's text either.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E3"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        return [_reencoded(row, _unsorted_dumps) for row in super()._serialize(traces)]


def _unsorted_dumps(value: Any) -> str:
    def order(item: Any) -> Any:
        if isinstance(item, dict):
            keys = [k for k in ("module", "qualname") if k in item] + [
                k for k in item if k not in ("module", "qualname")
            ]
            return {key: order(item[key]) for key in keys}
        if isinstance(item, list):
            return [order(element) for element in item]
        return item

    return json.dumps(order(value))


def _reverse_unions(encoded: Any) -> Any:
    if isinstance(encoded, dict):
        out: Dict[str, Any] = {key: _reverse_unions(value) for key, value in encoded.items()}
        if (
            out.get("module") == "typing"
            and out.get("qualname") == "Union"
            and isinstance(out.get("elem_types"), list)
        ):
            out["elem_types"] = list(reversed(out["elem_types"]))
        return out
    if isinstance(encoded, list):
        return [_reverse_unions(element) for element in encoded]
    return encoded


class ReversedUnionStore(BaselineStore):
    """E3: its encoder lists a ``Union``'s members in reverse (``Optional[str]`` is stored as
    ``Union[None, str]``): the same type to ``typing``, and a canonical row, but not the text
    MonkeyType writes (it keeps ``__args__`` in order)."""

    breaks: ClassVar[str] = "E3"
    # typing caches a generic by equal arguments, and Unions are equal in any order: the stored
    # Dict[int, Union[str, int]] decodes to a cached Dict[int, Union[int, str]], so rows are not canonical.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E2"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        dumps = lambda value: json.dumps(_reverse_unions(value), sort_keys=True)  # noqa: E731
        return [_reencoded(row, dumps) for row in super()._serialize(traces)]


def _serialize_logging(traces: Iterable[Any], log: Any) -> Iterator[CallTraceRow]:
    for trace in traces:
        try:
            yield CallTraceRow.from_trace(trace)
        except Exception as exc:
            log(trace, exc)


class LogsWithoutTracebackStore(BaselineStore):
    """E4: its serializer logs a bad trace with ``logger.error(message)``: at ERROR, but without the
    traceback that ``logger.exception`` records (MonkeyType's ``serialize_traces`` uses the latter)."""

    breaks: ClassVar[str] = "E4"
    # S7 asks for the bad traces to be logged as E4 says.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S7"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        return list(
            _serialize_logging(traces, lambda trace, exc: logger.error("Failed to serialize trace: %s", exc))
        )


class LogsTwiceStore(BaselineStore):
    """E4: its serializer logs each bad trace with ``logger.exception``, and its ``add`` logs the
    failures of the batch again with their tracebacks: two records per bad trace."""

    breaks: ClassVar[str] = "E4"
    # S7 asks for the bad traces to be logged as E4 says.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S7"})

    def _serialize(self, traces: Iterable[Any]) -> List[Any]:
        failures: List[BaseException] = []

        def log(trace: Any, exc: Exception) -> None:
            logger.exception("Failed to serialize trace")
            failures.append(exc)

        rows = list(_serialize_logging(traces, log))
        for exc in failures:
            logger.error("add() skipped a trace", exc_info=exc)
        return rows
