"""The contract's rule IDs, each with a one-line title (the README holds the rules in full)."""

from __future__ import annotations

from typing import Dict, Iterable, List

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

MARKER = "rule"
"""Name of the pytest marker that tags each kit test with the rule IDs it checks."""


def check_rule_ids(ids: Iterable[str]) -> List[str]:
    """Return ``ids`` as a list; raises ``ValueError`` naming any ID the contract lacks."""
    found = list(ids)
    unknown = [rule for rule in found if rule not in RULES]
    if unknown:
        raise ValueError(f"unknown rule ID(s) {unknown!r}; known: {', '.join(RULES)}")
    return found


def rule_sort_key(rule: str) -> tuple[str, int]:
    """Order E1..E5 before S1..S15, numerically (S2 before S10)."""
    return (rule[:1], int(rule[1:]) if rule[1:].isdigit() else 0)
