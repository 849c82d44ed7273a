"""A reference model of the store contract: the history, and what ``filter`` must answer.

The model keeps every serializable trace passed to ``add``, in order, as a
:data:`RowKey` (what a row holds, with ``TypedDict``\\ s compared by structure). From
that history it computes the answer the contract demands, and it *diagnoses* an
answer: each :class:`Violation` names the one rule it breaks, and a test keeps only the
violations of its own rule. One fault can still break several rules (the self-test lists,
for each faulty store, the other rules it fails).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Set, Tuple

from tracestore.encoding import type_to_dict

RowKey = Tuple[str, str, str, str, str]
"""``(module, qualname, arg_types, return_type, yield_type)``, each type as canonical JSON."""

ALL_CHECKS = frozenset({"S2", "S3", "S4", "S5", "S6", "S15"})


class Violation(NamedTuple):
    rule: str
    message: str


def _canonical(d: Any) -> Any:
    """A type dict with TypedDict modules dropped and Union members sorted: equal types, equal dicts."""
    if not isinstance(d, dict):
        return d
    out = dict(d)
    elements = out.get("elem_types")
    if isinstance(elements, dict):
        out["elem_types"] = {name: _canonical(e) for name, e in elements.items()}
    elif isinstance(elements, list):
        canon = [_canonical(e) for e in elements]
        if out.get("module") == "typing" and out.get("qualname") == "Union":
            canon.sort(key=lambda e: json.dumps(e, sort_keys=True))
        out["elem_types"] = canon
    if out.get("is_typed_dict"):
        out["module"] = "<TypedDict>"
    return out


def type_key(typ: Any) -> str:
    """A type's part of a :data:`RowKey`: equal types, equal keys (``""`` for ``None``)."""
    return "" if typ is None else json.dumps(_canonical(type_to_dict(typ)), sort_keys=True)


def trace_key(trace: Any) -> RowKey:
    """The :data:`RowKey` of any trace-like object; raises when the trace cannot be encoded."""
    func = trace.func
    arg_types = {name: _canonical(type_to_dict(t)) for name, t in trace.arg_types.items()}
    return (
        func.__module__,
        func.__qualname__,
        json.dumps(arg_types, sort_keys=True),
        type_key(trace.return_type),
        type_key(trace.yield_type),
    )


def describe(key: RowKey) -> str:
    """A short human-readable form of a row key, for failure messages."""
    module, qualname, args, ret, yld = key
    return f"{module}.{qualname}({args}) -> {ret or 'None'}" + (f" yields {yld}" if yld else "")


class HistoryModel:
    """The history of one store (rule S5's definition), and the answers it implies."""

    def __init__(self, distinct: bool = True) -> None:
        self.distinct = distinct
        self.history: List[RowKey] = []

    def add(self, traces: Iterable[Any]) -> None:
        """Record the serializable traces among ``traces`` (the others are skipped, rule S7)."""
        for trace in traces:
            try:
                key = trace_key(trace)
            except Exception:
                continue
            self.history.append(key)

    def modules(self) -> Set[str]:
        return {key[0] for key in self.history}

    def matching(self, module: str, prefix: Optional[str]) -> List[Tuple[int, RowKey]]:
        """``(position, key)`` of each matching result, most recent first.

        With distinct results a key appears once, at its latest position (S6).
        """
        found: List[Tuple[int, RowKey]] = []
        seen: Set[RowKey] = set()
        for position in range(len(self.history) - 1, -1, -1):
            key = self.history[position]
            if key[0] != module or not key[1].startswith(prefix or ""):
                continue
            if self.distinct:
                if key in seen:
                    continue
                seen.add(key)
            found.append((position, key))
        return found

    def expected(self, module: str, prefix: Optional[str] = None, limit: int = 2000) -> List[RowKey]:
        """The answer the contract demands, most recent first."""
        return [key for _, key in self.matching(module, prefix)[:limit]]

    def diagnose(
        self,
        module: str,
        prefix: Optional[str],
        limit: int,
        answer: Sequence[RowKey],
        ordered: bool,
        checks: Iterable[str] = ALL_CHECKS,
    ) -> List[Violation]:
        """The rule violations in ``answer`` to ``filter(module, prefix, limit)``, among ``checks``."""
        wanted = set(checks)
        call = f"filter({module!r}, {prefix!r}, {limit})"
        found: List[Violation] = []
        matches = self.matching(module, prefix)
        clean = [key for key in answer if key[0] == module and key[1].startswith(prefix or "")]
        for key in answer:
            if key[0] != module:
                found.append(Violation("S2", f"{call} returned a trace of module {key[0]!r}"))
                break
        for key in answer:
            if key[0] == module and not key[1].startswith(prefix or ""):
                found.append(
                    Violation("S3", f"{call} returned qualname {key[1]!r}, which does not start with it")
                )
                break
        counts = Counter(answer)
        duplicated = [key for key, n in counts.items() if n > 1]
        if self.distinct and duplicated:
            found.append(
                Violation("S6", f"{call} returned {describe(duplicated[0])} {counts[duplicated[0]]} times")
            )
        if not self.distinct and len(clean) == len(answer) and limit >= len(matches):
            history_counts = Counter(key for _, key in matches)
            merged = [key for key in counts if counts[key] < history_counts.get(key, 0)]
            if merged:
                found.append(
                    Violation(
                        "S6",
                        f"{call} returned {describe(merged[0])} {counts[merged[0]]} times, but it was "
                        f"added {history_counts[merged[0]]} times (distinct_results is False)",
                    )
                )
        want = min(limit, len(matches))
        at_least = min(limit, len({key for _, key in matches}))
        if len(answer) > limit:
            found.append(Violation("S4", f"{call} returned {len(answer)} results, more than the limit"))
        elif len(clean) == len(answer) and (
            (self.distinct and not duplicated and len(answer) != want)
            or (not self.distinct and (len(answer) < at_least or (duplicated and len(answer) != want)))
        ):
            # Without duplicates in its answer, a store that should keep them merged them: S6's business.
            found.append(Violation("S4", f"{call} returned {len(answer)} results; expected {want}"))
        found.extend(self._recency(call, matches, clean, ordered))
        return [v for v in found if v.rule in wanted]

    def _recency(
        self, call: str, matches: List[Tuple[int, RowKey]], clean: List[RowKey], ordered: bool
    ) -> List[Violation]:
        """S5 (the returned matches are the most recent ones) and S15 (listed most recent first)."""
        positions: Dict[RowKey, List[int]] = {}
        for position, key in matches:  # most recent first
            positions.setdefault(key, []).append(position)
        taken: Dict[RowKey, int] = {}
        sequence: List[int] = []
        unknown: List[RowKey] = []
        for key in clean:
            available = positions.get(key, [])
            index = taken.get(key, 0)
            if self.distinct and index >= 1 and available:
                continue  # a duplicate: S6's business, not S5's or S15's
            if index >= len(available):
                unknown.append(key)
                continue
            taken[key] = index + 1
            sequence.append(available[index])
        found: List[Violation] = []
        if unknown:
            found.append(
                Violation("S5", f"{call} returned {describe(unknown[0])}, which is not in the history")
            )
        used, answered = set(sequence), set(clean)
        # Fewer copies of an answered key is S6's business (merged duplicates), not S5's.
        left_out = [position for position, key in matches if position not in used and key not in answered]
        if sequence and left_out and max(left_out) > min(sequence):
            newer = self.history[max(left_out)]
            older = self.history[min(sequence)]
            found.append(
                Violation(
                    "S5",
                    f"{call} left out {describe(newer)} (added at #{max(left_out)}) but returned the "
                    f"older {describe(older)} (#{min(sequence)})",
                )
            )
        if ordered and any(later > earlier for earlier, later in zip(sequence, sequence[1:])):
            found.append(
                Violation(
                    "S15", f"{call} listed results in history positions {sequence}, not most recent first"
                )
            )
        return found
