"""Faulty stores that answer reads badly: empty cases (S8), decoding (S9, E5), ``list_modules`` (S12)."""

from __future__ import annotations

from typing import Any, ClassVar, Dict, FrozenSet, Iterable, List, Optional

from tests.faulty_stores.baseline import BaselineStore
from tracestore import CallTrace, CallTraceRow, CallTraceThunk, DecodeError


class EmptyAddRaisesStore(BaselineStore):
    """S8: ``add([])`` raises ``ValueError`` instead of doing nothing."""

    breaks: ClassVar[str] = "S8"
    # Those checks add an empty batch (or one with no serializable trace) on the way.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E4", "S1", "S4", "S5", "S6", "S7", "S15"})

    def add(self, traces: Iterable[Any]) -> None:
        batch = list(traces)
        if not batch:
            raise ValueError("add() needs at least one trace")
        super().add(batch)


class UnknownModuleRaisesStore(BaselineStore):
    """S8: ``filter`` of a module with no stored trace (or on an empty store) raises ``KeyError``."""

    breaks: ClassVar[str] = "S8"
    # The kit asks for unknown modules in its S2 checks and its stateful tests too.
    # The kit's newer inputs (look-alike names, huge limits, prefixes after names vanish) also fail S1.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S1", "S2", "S4", "S5", "S6", "S15"})

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        if module not in self.list_modules():
            raise KeyError(module)
        return super().filter(module, qualname_prefix, limit)


class NonEmptyUnknownModuleRaisesStore(BaselineStore):
    """S8: ``filter`` looks the module up in an index made by the first ``add``, so on a store holding
    traces, a module without any raises ``KeyError`` (on an empty store it answers ``[]``)."""

    breaks: ClassVar[str] = "S8"
    # The kit asks for unknown modules in its S2 checks and its stateful tests too.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S2", "S4", "S5", "S6", "S15"})

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        modules = self.list_modules()
        if modules and module not in modules:
            raise KeyError(module)
        return super().filter(module, qualname_prefix, limit)


class UnknownModuleWithPrefixRaisesStore(BaselineStore):
    """S8: ``filter`` with a prefix goes through a per-module qualname index that raises ``KeyError``
    for a module without traces; without a prefix it answers ``[]``."""

    breaks: ClassVar[str] = "S8"
    # The kit asks for unknown modules with prefixes in its stateful tests too.
    # The kit's newer inputs (look-alike names, huge limits, prefixes after names vanish) also fail S1.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S1", "S4", "S5", "S6", "S15"})

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        if qualname_prefix and module not in self.list_modules():
            raise KeyError(f"no qualname index for module {module!r}")
        return super().filter(module, qualname_prefix, limit)


class UnknownMetacharacterModuleRaisesStore(BaselineStore):
    """S8: ``filter`` escapes ``%``, ``*``, ``?`` and ``[`` only in the names of stored modules; an
    unknown module with one of them reaches its pattern parser, which raises ``ValueError``."""

    breaks: ClassVar[str] = "S8"
    # The kit asks for unknown modules with metacharacters in its S2 checks and stateful tests too.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S2", "S4", "S5", "S6", "S15"})

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        if any(c in module for c in "%*?[") and module not in self.list_modules():
            raise ValueError(f"invalid module pattern {module!r}")
        return super().filter(module, qualname_prefix, limit)


class DecodesInFilterStore(BaselineStore):
    """S9: ``filter`` decodes every row to check it, so one undecodable row makes ``filter`` raise."""

    breaks: ClassVar[str] = "S9"
    # E5 needs filter to return the vanished trace's thunk; this filter raises instead.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E5"})

    def _listed(self, chosen: List[CallTraceRow]) -> List[CallTraceThunk]:
        for row in chosen:
            row.to_trace()
        return super()._listed(chosen)


class DropsUndecodableStore(BaselineStore):
    """S9: ``filter`` silently leaves out rows that no longer decode, instead of returning their thunks."""

    breaks: ClassVar[str] = "S9"
    # E5 needs the vanished trace's thunk among filter's results; this filter leaves it out.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"E5"})

    def _listed(self, chosen: List[CallTraceRow]) -> List[CallTraceThunk]:
        kept = []
        for row in chosen:
            try:
                row.to_trace()
            except DecodeError:
                continue
            kept.append(row)
        return super()._listed(kept)


def unknown_function() -> None:
    """The stand-in that ``_GuessingRow`` puts in place of a function it cannot find."""


class _GuessingRow(CallTraceRow):
    """A row whose ``to_trace`` returns a stand-in trace instead of raising (E5)."""

    __slots__ = ()

    def to_trace(self) -> CallTrace:
        try:
            return super().to_trace()
        except DecodeError:
            return CallTrace(unknown_function, {}, None, None)


class _VagueRow(CallTraceRow):
    """A row whose ``to_trace`` raises an error that names nothing (E5)."""

    __slots__ = ()

    def to_trace(self) -> CallTrace:
        try:
            return super().to_trace()
        except DecodeError:
            raise RuntimeError("could not decode a stored trace") from None


class _RuntimeErrorRow(CallTraceRow):
    """A row whose ``to_trace`` turns the decode error into a ``RuntimeError`` with the same text."""

    __slots__ = ()

    def to_trace(self) -> CallTrace:
        try:
            return super().to_trace()
        except DecodeError as exc:
            raise RuntimeError(f"cannot decode a stored trace: {exc}") from None


class RuntimeErrorNamingStore(BaselineStore):
    """E5: a thunk whose function or type is gone raises ``RuntimeError`` naming the missing name,
    not a documented ``tracestore.DecodeError``."""

    breaks: ClassVar[str] = "E5"

    def _listed(self, chosen: List[CallTraceRow]) -> List[CallTraceThunk]:
        return [_RuntimeErrorRow(*row.as_tuple()) for row in chosen]


class WrongTraceOnDecodeErrorStore(BaselineStore):
    """E5: a thunk whose function or type is gone returns a stand-in trace instead of raising."""

    breaks: ClassVar[str] = "E5"
    # S9 expects the vanished trace's thunk to raise; this one returns a stand-in trace.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S9"})

    def _listed(self, chosen: List[CallTraceRow]) -> List[CallTraceThunk]:
        return [_GuessingRow(*row.as_tuple()) for row in chosen]


class VagueDecodeErrorStore(BaselineStore):
    """E5: a thunk whose function or type is gone raises a bare ``RuntimeError`` naming nothing."""

    breaks: ClassVar[str] = "E5"

    def _listed(self, chosen: List[CallTraceRow]) -> List[CallTraceThunk]:
        return [_VagueRow(*row.as_tuple()) for row in chosen]


class DuplicatedModulesStore(BaselineStore):
    """S12: ``list_modules`` lists a module once per stored trace."""

    breaks: ClassVar[str] = "S12"

    def list_modules(self) -> List[str]:
        return [row.module for row in self._snapshot()]


class CaseFoldedModulesStore(BaselineStore):
    """S12: ``list_modules`` merges modules that differ only in case (a case-insensitive collation)."""

    breaks: ClassVar[str] = "S12"

    def list_modules(self) -> List[str]:
        by_folded: Dict[str, str] = {}
        for row in self._snapshot():
            by_folded.setdefault(row.module.casefold(), row.module)
        return list(by_folded.values())


class ListModulesGivesUpStore(BaselineStore):
    """S12: ``list_modules`` answers ``[]`` on an empty store, then raises ``NotImplementedError``
    ("needs a full scan") once the store holds traces."""

    breaks: ClassVar[str] = "S12"

    def list_modules(self) -> List[str]:
        if self._snapshot():
            raise NotImplementedError("listing the modules of a non-empty store needs a full scan")
        return []
