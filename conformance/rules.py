"""The contract's rule IDs and clause IDs (``S4.negative``), each with a one-line title."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Tuple

import pytest

RULES: Dict[str, str] = {
    "E1": "round trip: a findable, encodable trace decodes to an equal trace",
    "E2": "canonical rows: encoding a decoded row gives the same row",
    "E3": "MonkeyType format: the exact JSON MonkeyType 23.3.0 writes",
    "E4": "serialize_traces logs each bad trace once and never raises",
    "E5": "decode errors are clear: a documented exception naming the missing name",
    "S1": "stored traces come back",
    "S2": "module is exact",
    "S3": "qualname prefix is a literal, case-sensitive startswith",
    "S4": "limit: min(limit, matches); 0 gives []; default 2000; negative raises ValueError",
    "S5": "the most recent matching traces win",
    "S6": "distinct results (or every duplicate kept, as declared)",
    "S7": "add is forgiving: bad traces are logged and skipped",
    "S8": "empty is fine",
    "S9": "filter does not decode",
    "S10": "durability: a reopened store has every added trace",
    "S11": "concurrent writers lose nothing",
    "S12": "list_modules lists each module with a trace, once",
    "S13": "a stored trace is a snapshot",
    "S14": "a bad connection string gets a clear error and leaves nothing behind",
    "S15": "most recent first",
}

CLAUSES: Dict[str, str] = {
    "S3.wildcards": "%, _, *, ?, [, \\ and quotes in a prefix are plain characters",
    "S3.case": "a prefix is case-sensitive",
    "S4.default": "the default limit is 2000",
    "S4.negative": "a negative limit raises ValueError",
    "S11.threads": "concurrent threads lose nothing",
    "S11.processes": "concurrent processes lose nothing",
}
"""Clauses of a rule that a store can declare alone (and be checked on the rest of the rule).
A test marked with a clause ID checks that clause only; it counts for its rule too."""

MARKER = "rule"
"""Name of the pytest marker that tags each kit test with the rule IDs it checks."""


def check_rule_ids(ids: Iterable[str]) -> List[str]:
    """Return ``ids`` as a list; raises ``ValueError`` naming any rule or clause ID the kit lacks."""
    found = list(ids)
    unknown = [rule for rule in found if rule not in RULES and rule not in CLAUSES]
    if unknown:
        raise ValueError(
            f"unknown rule ID(s) {unknown!r}; known: {', '.join(RULES)}; clauses: {', '.join(CLAUSES)}"
        )
    return found


def parent_rule(rule_or_clause: str) -> str:
    """``"S4"`` for ``"S4.negative"``; a rule ID is its own parent."""
    return rule_or_clause.partition(".")[0]


def clauses_of(rule: str) -> List[str]:
    """The clause IDs of ``rule``, in registry order."""
    return [clause for clause in CLAUSES if parent_rule(clause) == rule]


def rule_sort_key(rule: str) -> Tuple[str, int, str]:
    """Order E1..E5 before S1..S15, numerically (S2 before S10), each rule before its clauses."""
    head, _, clause = rule.partition(".")
    return (head[:1], int(head[1:]) if head[1:].isdigit() else 0, clause)


def is_rule_failure(error: BaseException) -> bool:
    """Whether ``error`` is a check's own verdict: an ``AssertionError``, ``pytest.fail``'s
    ``Failed``, or an exception group (Hypothesis's several failures) made only of those.

    A crash of the store (a ``TypeError``, a driver's error) or a deadline overrun is not:
    it cannot confirm a declared deviation.
    """
    leaves = getattr(error, "exceptions", None)
    if isinstance(leaves, tuple) and leaves and isinstance(error, BaseException):
        if type(error).__name__ in ("ExceptionGroup", "BaseExceptionGroup", "FlakyFailure"):
            return all(isinstance(leaf, BaseException) and is_rule_failure(leaf) for leaf in leaves)
    return isinstance(error, (AssertionError, pytest.fail.Exception))


class _RuleFailureType(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, BaseException) and is_rule_failure(instance)


class RuleFailure(Exception, metaclass=_RuleFailureType):
    """Never raised: ``isinstance(error, RuleFailure)`` is :func:`is_rule_failure` (for
    ``pytest.mark.xfail(raises=RuleFailure)``)."""


DECLARED_PREFIX = "declared deviation from "


def declared_reason(rule: str, reason: str) -> str:
    """The xfail reason of a declared deviation; :func:`declared_rule` reads the rule back."""
    return f"{DECLARED_PREFIX}{rule}: {reason}"


def declared_rule(xfail_reason: str) -> str:
    """The rule or clause ID in an xfail reason made by :func:`declared_reason` ("" if none)."""
    text = xfail_reason.partition(DECLARED_PREFIX)[2]
    return text.partition(":")[0] if text else ""
