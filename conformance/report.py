"""The kit's per-rule report: a pytest plugin that collects test outcomes, and its text and JSON forms.

A rule's status comes from the tests that carry its ``rule`` marker:
PASS, FAIL (with the minimal falsifying example), DECLARED (a declared deviation that
did fail by the rule's own assertion), SKIPPED (with the reason), NOT CHECKED (no test ran
for it) or ERROR (a declared deviation whose every test passed or that crashed, or a test
that errored outside the rule check, such as a failed cleanup). A clause (``S4.negative``)
gets a result of its own too; its tests count for its rule unless the clause is declared.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Set, Tuple

import pytest

from conformance.rules import parent_rule

PASS, FAIL, DECLARED, SKIPPED, NOT_CHECKED, ERROR = (
    "PASS",
    "FAIL",
    "DECLARED",
    "SKIPPED",
    "NOT CHECKED",
    "ERROR",
)
OK_STATUSES = frozenset({PASS, DECLARED, SKIPPED, NOT_CHECKED})
_RULE_ID = re.compile(r"\b([ES][0-9]{1,2})\b(?!\.[a-z])")
_TEST_NAME_RULE = re.compile(r"^test_([ES][0-9]{1,2})_")


@dataclasses.dataclass
class TestOutcome:
    """One kit test: outcome is passed, failed, error, skipped, xfailed or xpassed."""

    __test__ = False  # not a pytest test class

    name: str
    rules: Tuple[str, ...]
    outcome: str = "passed"
    duration: float = 0.0
    detail: str = ""
    error: str = ""  # "Type: message" of the exception at the root of a crash (not an assertion)


@dataclasses.dataclass
class RuleResult:
    rule: str
    title: str
    status: str
    tests: List[str]
    detail: str = ""
    declared: bool = False


@dataclasses.dataclass
class KitReport:
    store: str
    profile: str
    connection_string: str
    duration: float
    results: Dict[str, RuleResult]
    tests: List[TestOutcome]
    errors: List[str]
    clauses: Dict[str, RuleResult] = dataclasses.field(default_factory=dict)

    @property
    def root_causes(self) -> List[Tuple[str, List[str]]]:
        """``(error, rules)`` for each crash that two or more FAIL/ERROR rules share."""
        return root_causes(self.results, self.tests)

    def declared_clauses(self) -> List[RuleResult]:
        return [r for r in self.clauses.values() if r.declared]

    @property
    def ok(self) -> bool:
        """True when no rule FAILed or ERRORed and the run itself had no error."""
        rows = [*self.results.values(), *self.declared_clauses()]
        return not self.errors and all(r.status in OK_STATUSES for r in rows)

    def counts(self) -> Dict[str, int]:
        """How many rules, and declared clauses, have each status."""
        found = {status: 0 for status in (PASS, FAIL, DECLARED, SKIPPED, NOT_CHECKED, ERROR)}
        for result in [*self.results.values(), *self.declared_clauses()]:
            found[result.status] += 1
        return found


ProgressCallback = Callable[[TestOutcome, int, int], None]


class ResultCollector:
    """A pytest plugin object: restricts collection to ``selected`` rules and records each test.

    ``started(test, k, n)`` is called as the k-th test of n starts; ``progress(test, k, n)``
    once it has ended.
    """

    def __init__(
        self,
        selected: Optional[Set[str]] = None,
        progress: Optional[ProgressCallback] = None,
        started: Optional[ProgressCallback] = None,
    ):
        self.selected = selected
        self.progress = progress
        self.started = started
        self.tests: Dict[str, TestOutcome] = {}
        self.errors: List[str] = []
        self.total = 0
        self._done = 0
        self._begun = 0

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: List[pytest.Item]) -> None:
        kept, deselected = [], []
        for item in items:
            rules = item_rules(item)
            if self.selected is None or self.selected.intersection([*rules, *map(parent_rule, rules)]):
                kept.append(item)
                self.tests[item.nodeid] = TestOutcome(item.name, rules)
            else:
                deselected.append(item)
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = kept
        self.total = len(kept)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"collecting {report.nodeid or 'the kit'} failed:\n{report.longreprtext}")

    def pytest_runtest_logstart(self, nodeid: str, location: Tuple[str, Optional[int], str]) -> None:
        test = self.tests.get(nodeid)
        if test is not None:
            self._begun += 1
            if self.started is not None:
                self.started(test, self._begun, self.total)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        test = self.tests.get(report.nodeid)
        if test is None:
            return
        test.duration += report.duration
        if report.when == "teardown" and report.failed and test.outcome == "failed":
            self.errors.append(f"{test.name}: error in teardown: {failure_summary(report)}")  # kept apart
        _record_phase(test, report)
        if report.when == "teardown":
            self._done += 1
            if self.progress is not None:
                self.progress(test, self._done, self.total)


def item_rules(item: pytest.Item) -> Tuple[str, ...]:
    """The rule IDs of a test: its ``rule`` markers, else the ID in its name."""
    rules: List[str] = []
    for marker in item.iter_markers("rule"):
        rules.extend(str(arg) for arg in marker.args if str(arg) not in rules)
    if not rules:
        match = _TEST_NAME_RULE.match(item.name)
        if match:
            rules.append(match.group(1))
    return tuple(rules)


def _record_phase(test: TestOutcome, report: pytest.TestReport) -> None:
    wasxfail = getattr(report, "wasxfail", None)
    if report.failed:
        if report.when == "call":
            test.outcome, test.detail = "failed", failure_summary(report)
            test.error = root_error(report)
        elif test.outcome != "failed":
            test.outcome, test.detail = "error", f"error in {report.when}: {failure_summary(report)}"
            test.error = root_error(report)
    elif report.skipped:
        if wasxfail is not None:
            test.outcome, test.detail = "xfailed", failure_summary(report) or str(wasxfail)
        else:
            test.outcome, test.detail = "skipped", _skip_reason(report)
    elif report.when == "call" and wasxfail is not None:
        test.outcome, test.detail = "xpassed", f"unexpectedly passed ({wasxfail})"


_VERDICTS = ("AssertionError", "Failed", "ExceptionGroup", "BaseExceptionGroup", "FlakyFailure")


def root_error(report: pytest.TestReport) -> str:
    """``"Type: message"`` of the first exception in the failure's chain that is not a check's
    verdict (an assertion, ``pytest.fail``), without the module path; "" when there is none."""
    chain = getattr(report.longrepr, "chain", None)
    crashes = [element[1] for element in chain] if isinstance(chain, list) else []
    if not crashes:
        crashes = [getattr(report.longrepr, "reprcrash", None)]
    for crash in crashes:
        message = str(getattr(crash, "message", "") or "").strip()
        head, sep, text = message.partition(":")
        kind = head.rpartition(".")[2].strip()
        if not sep or not kind.isidentifier() or kind in _VERDICTS:
            continue
        return f"{kind}: {text.strip().splitlines()[0] if text.strip() else ''}".rstrip(": ")
    return ""


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return report.longreprtext


_NOISE = re.compile(r"^\s*(self=<.*>,?|You can reproduce this example.*|@reproduce_failure\(.*\)|$)")


#: Hypothesis's heading of a minimal failing example: "Falsifying example" in older releases,
#: "Failing test case" since. The report always says "Falsifying example".
_EXAMPLE_HEADING = re.compile(r"Falsifying example|Failing test case")


def failure_summary(report: pytest.TestReport) -> str:
    """The assertion message and Hypothesis's falsifying example, without traceback noise."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = _EXAMPLE_HEADING.sub("Falsifying example", str(getattr(crash, "message", "") or ""))
    if "Falsifying example" not in message:
        text = _EXAMPLE_HEADING.sub("Falsifying example", report.longreprtext)
        lines = [re.sub(r"^(?:E |\s*\|)\s?", "", line) for line in text.splitlines()]
        start = next((i for i, line in enumerate(lines) if "Falsifying example" in line), None)
        if start is not None:
            message = "\n".join([message, *lines[start:]]) if message else "\n".join(lines[start:])
        elif not message:
            message = report.longreprtext.strip().splitlines()[-1] if report.longreprtext.strip() else ""
    head, sep, example = message.partition("Falsifying example")
    assertion = _assertion_text(head)
    example, _, _ = example.partition("\nExplanation:")  # Hypothesis's coverage notes: noise here
    example_lines = [line.rstrip() for line in (sep + example).splitlines() if not _NOISE.match(line)]
    example_lines = [re.sub(r"\s*# or any other generated value", "", line) for line in example_lines]
    return "\n".join(part for part in (assertion, "\n".join(example_lines)) if part)


_TRACEBACK = re.compile(r"Traceback \(most recent call last\):\n(?:[ \t].*\n|\n)*")


def _assertion_text(text: str, max_lines: int = 12) -> str:
    """The exception message: tracebacks inside it cut to their last line, pytest's
    ``assert ...`` introspection dropped, at most ``max_lines`` lines."""
    lines = _TRACEBACK.sub("", text.strip() + "\n").splitlines()
    cut = next((i for i, line in enumerate(lines) if i and line.startswith("assert ")), len(lines))
    kept = [line for line in lines[:cut] if line.strip()]
    return "\n".join(kept[:max_lines] + (["..."] if len(kept) > max_lines else []))


def rule_results(
    titles: Mapping[str, str],
    tests: Sequence[TestOutcome],
    declared: Mapping[str, str],
    selected: Optional[Set[str]] = None,
) -> Dict[str, RuleResult]:
    """Each registry rule's status, from the outcomes of the tests that carry it or one of its
    clauses (except the tests of a declared clause, which has a result of its own)."""
    results = {}
    for rule, title in titles.items():
        mine = [t for t in tests if _checks(t, rule) and not _declared_clause(t, rule, declared)]
        result = _rule_result(rule, title, mine, declared.get(rule), _selected(selected, rule))
        apart = sorted(c for c in declared if c != rule and parent_rule(c) == rule)
        if apart and result.status != DECLARED:
            note = f"{', '.join(apart)} declared, checked apart"
            result.detail = f"{result.detail}; {note}" if result.detail else note
        results[rule] = result
    return results


def clause_results(
    titles: Mapping[str, str],
    tests: Sequence[TestOutcome],
    declared: Mapping[str, str],
    selected: Optional[Set[str]] = None,
) -> Dict[str, RuleResult]:
    """Each clause's status, from its own tests; a clause is declared alone or with its rule."""
    results = {}
    for clause, title in titles.items():
        reason = declared.get(clause, declared.get(parent_rule(clause)))
        mine = [t for t in tests if clause in t.rules]
        result = _rule_result(clause, title, mine, reason, _selected(selected, clause))
        result.declared = clause in declared
        results[clause] = result
    return results


def _checks(test: TestOutcome, rule: str) -> bool:
    return any(parent_rule(r) == rule for r in test.rules)


def _declared_clause(test: TestOutcome, rule: str, declared: Mapping[str, str]) -> bool:
    return rule not in declared and any(
        r != rule and parent_rule(r) == rule and r in declared for r in test.rules
    )


def _selected(selected: Optional[Set[str]], rule: str) -> Optional[Set[str]]:
    """``selected``, counting a rule's selection for its clauses and a clause's for its rule."""
    if selected is None:
        return None
    return (
        {rule}
        if rule in selected or parent_rule(rule) in selected or rule in map(parent_rule, selected)
        else set()
    )


def _rule_result(
    rule: str, title: str, tests: List[TestOutcome], reason: Optional[str], selected: Optional[Set[str]]
) -> RuleResult:
    names = [t.name for t in tests]
    if not tests:
        why = "not selected" if selected is not None and rule not in selected else "no test checks it"
        return RuleResult(rule, title, NOT_CHECKED, names, why)
    failed = [t for t in tests if t.outcome in ("failed", "error") and _blames(t, rule)]
    ran = [t for t in tests if t.outcome != "skipped"]
    skipped = [t for t in tests if t.outcome == "skipped"]
    if reason is not None:
        return _declared_result(rule, title, tests, reason, skipped)
    if failed:
        status = FAIL if any(t.outcome == "failed" for t in failed) else ERROR
        # Show a failure with a falsifying example first; name the other failing tests.
        failed.sort(key=lambda t: (t.outcome != "failed", "Falsifying example" not in t.detail))
        detail = f"{failed[0].name}: {failed[0].detail}"
        if len(failed) > 1:
            detail += f"\nalso failed: {', '.join(t.name for t in failed[1:])}"
        return RuleResult(rule, title, status, names, detail)
    if any(t.outcome in ("passed", "xpassed") for t in ran):
        detail = f"{len(skipped)} of {len(tests)} tests skipped: {_skip_detail(skipped)}" if skipped else ""
        return RuleResult(rule, title, PASS, names, detail)
    if skipped:
        return RuleResult(rule, title, SKIPPED, names, _skip_detail(skipped))
    inconclusive = "; ".join(f"{t.name} failed on another rule" for t in tests if t.outcome == "failed")
    return RuleResult(rule, title, NOT_CHECKED, names, inconclusive or _describe(tests[0]))


def _declared_result(
    rule: str, title: str, tests: List[TestOutcome], reason: str, skipped: List[TestOutcome]
) -> RuleResult:
    """DECLARED when a test failed by the rule's own assertion (xfailed) and none crashed;
    ERROR when one crashed (an exception that is not the rule's verdict) or when every test
    that ran passed; SKIPPED when none ran."""
    names = [t.name for t in tests]
    confirmed = [t for t in tests if t.outcome == "xfailed"]
    crashed = [t for t in tests if t.outcome in ("failed", "error")]
    passed = [t for t in tests if t.outcome in ("passed", "xpassed")]
    if crashed:
        first = crashed[0]
        detail = f"declared ({reason}) but {first.name} {first.outcome} with an error that is not {rule}'s "
        detail += f"assertion: {first.detail}"
        return RuleResult(rule, title, ERROR, names, detail)
    if confirmed:
        return RuleResult(rule, title, DECLARED, names, reason)
    if passed:
        which = ", ".join(t.name for t in passed)
        detail = f"declared ({reason}) but every test passed: {which}; remove the declaration"
        return RuleResult(rule, title, ERROR, names, detail)
    return RuleResult(rule, title, SKIPPED, names, _skip_detail(skipped))


def root_causes(
    results: Mapping[str, RuleResult], tests: Sequence[TestOutcome]
) -> List[Tuple[str, List[str]]]:
    """The crashes shared by two or more FAIL/ERROR rules: ``(error, rules)``, most rules first."""
    by_error: Dict[str, List[str]] = {}
    for rule, result in results.items():
        if result.status not in (FAIL, ERROR):
            continue
        errors = {
            t.error for t in tests if t.error and t.name in result.tests and t.outcome in ("failed", "error")
        }
        for error in sorted(errors):
            by_error.setdefault(error, []).append(rule)
    shared = [(error, rules) for error, rules in by_error.items() if len(rules) > 1]
    return sorted(shared, key=lambda item: -len(item[1]))


def _blames(test: TestOutcome, rule: str) -> bool:
    """A failed test with several rules blames those its failure text names (all if it names none)."""
    if len(test.rules) < 2 or test.outcome != "failed":
        return True
    named = set(_RULE_ID.findall(test.detail)).intersection(test.rules)
    return not named or rule in named


def _describe(test: TestOutcome) -> str:
    return f"{test.name} {test.outcome}: {test.detail}" if test.detail else f"{test.name} {test.outcome}"


def _skip_detail(skipped: Sequence[TestOutcome]) -> str:
    reasons = list(dict.fromkeys(t.detail for t in skipped))
    reasons = [r for r in reasons if not any(o != r and o.startswith(r) for o in reasons)]  # keep the fuller
    return "; ".join(reasons) or "skipped"


def format_text(report: KitReport, *, verbose: bool = False, width: int = 240) -> str:
    """One line per rule (ID first), a summary, and last ``conformance: N passed, M failed``.

    M counts FAIL and ERROR rules and run errors, so CI can parse the last line alone.
    """
    lines = [header_line(report.store, report.profile, report.connection_string)]
    lines.extend(
        f"{len(rules)} rules fail with the same error: {error} -- {', '.join(rules)}"
        for error, rules in report.root_causes
    )
    clauses = report.declared_clauses()
    for result in report.results.values():
        for row in [result, *(c for c in clauses if parent_rule(c.rule) == result.rule)]:
            name = row.rule if row is result else f"  {row.rule}"
            line = f"{name:<4} {row.status:<11}  {row.title}"
            if row.detail:
                line += f"  ({_one_line(row.detail, width)})"
            lines.append(line)
            if verbose and row.status in (FAIL, ERROR):
                lines.extend(f"{row.rule:<4} | {detail_line}" for detail_line in row.detail.splitlines())
    lines.extend(f"error: {error}" for error in report.errors)
    counts = report.counts()
    parts = [f"{counts[PASS]} passed", f"{counts[FAIL]} failed", f"{counts[DECLARED]} declared"]
    parts += [f"{counts[SKIPPED]} skipped", f"{counts[NOT_CHECKED]} not checked", f"{counts[ERROR]} errors"]
    lines.append(f"{', '.join(parts)} in {report.duration:.1f}s")
    lines.append(
        f"conformance: {counts[PASS]} passed, {counts[FAIL] + counts[ERROR] + len(report.errors)} failed"
    )
    return "\n".join(lines)


def header_line(store: str, profile: str, connection_string: str) -> str:
    """The report's first line; the CLI prints it before the run starts, too."""
    return f"tracestore conformance: {store} (profile {profile}, {connection_string!r})"


def _one_line(text: str, width: int) -> str:
    """``text`` on one line; the message and the falsifying example are cut to ``width`` each."""
    text, also_sep, also = text.partition("\nalso failed: ")
    suffix = f"; also failed: {also}" if also_sep else ""
    message, sep, example = text.partition("\nFalsifying example")
    if not sep:
        return _flat(text, width) + suffix
    return f"{_flat(message, width)} -- {_flat(sep.strip() + example, width)}{suffix}"


def _flat(text: str, width: int) -> str:
    flat = re.sub(r"\s+", " ", text).replace("( ", "(").replace(", )", ")")
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def to_json(report: KitReport) -> Dict[str, Any]:
    """The report as JSON-able data: store, profile, duration, and each rule's status, tests and detail."""
    return {
        "store": report.store,
        "profile": report.profile,
        "connection_string": report.connection_string,
        "duration": round(report.duration, 3),
        "ok": report.ok,
        "counts": report.counts(),
        "errors": report.errors,
        "root_causes": [{"error": error, "rules": rules} for error, rules in report.root_causes],
        "rules": {
            rule: {"status": r.status, "title": r.title, "tests": r.tests, "detail": r.detail}
            for rule, r in report.results.items()
        },
        "clauses": {
            clause: {
                "status": r.status,
                "title": r.title,
                "tests": r.tests,
                "detail": r.detail,
                "declared": r.declared,
            }
            for clause, r in report.clauses.items()
        },
        "tests": [dataclasses.asdict(t) | {"duration": round(t.duration, 3)} for t in report.tests],
    }


def write_json(report: KitReport, path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(to_json(report), out, indent=2)
        out.write("\n")
