"""The kit's per-rule report: a pytest plugin that collects test outcomes, and its text and JSON forms.

A rule's status comes from the tests that carry its ``rule`` marker:
PASS, FAIL (with the minimal falsifying example), DECLARED (a declared deviation that
did fail), SKIPPED (with the reason), NOT CHECKED (no test ran for it) or ERROR (a
declared deviation that passed, or a test that errored outside the rule check).
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Set, Tuple

import pytest

PASS, FAIL, DECLARED, SKIPPED, NOT_CHECKED, ERROR = (
    "PASS",
    "FAIL",
    "DECLARED",
    "SKIPPED",
    "NOT CHECKED",
    "ERROR",
)
OK_STATUSES = frozenset({PASS, DECLARED, SKIPPED, NOT_CHECKED})
_RULE_ID = re.compile(r"\b([ES][0-9]{1,2})\b")
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


@dataclasses.dataclass
class RuleResult:
    rule: str
    title: str
    status: str
    tests: List[str]
    detail: str = ""


@dataclasses.dataclass
class KitReport:
    store: str
    profile: str
    connection_string: str
    duration: float
    results: Dict[str, RuleResult]
    tests: List[TestOutcome]
    errors: List[str]

    @property
    def ok(self) -> bool:
        """True when no rule FAILed or ERRORed and the run itself had no error."""
        return not self.errors and all(r.status in OK_STATUSES for r in self.results.values())

    def counts(self) -> Dict[str, int]:
        found = {status: 0 for status in (PASS, FAIL, DECLARED, SKIPPED, NOT_CHECKED, ERROR)}
        for result in self.results.values():
            found[result.status] += 1
        return found


ProgressCallback = Callable[[TestOutcome, int, int], None]


class ResultCollector:
    """A pytest plugin object: restricts collection to ``selected`` rules and records each test."""

    def __init__(self, selected: Optional[Set[str]] = None, progress: Optional[ProgressCallback] = None):
        self.selected = selected
        self.progress = progress
        self.tests: Dict[str, TestOutcome] = {}
        self.errors: List[str] = []
        self.total = 0
        self._done = 0

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: List[pytest.Item]) -> None:
        kept, deselected = [], []
        for item in items:
            rules = item_rules(item)
            if self.selected is None or self.selected.intersection(rules):
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

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        test = self.tests.get(report.nodeid)
        if test is None:
            return
        test.duration += report.duration
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
        elif test.outcome != "failed":
            test.outcome, test.detail = "error", f"error in {report.when}: {failure_summary(report)}"
    elif report.skipped:
        if wasxfail is not None:
            test.outcome, test.detail = "xfailed", failure_summary(report) or str(wasxfail)
        else:
            test.outcome, test.detail = "skipped", _skip_reason(report)
    elif report.when == "call" and wasxfail is not None:
        test.outcome, test.detail = "xpassed", f"unexpectedly passed ({wasxfail})"


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
    """Each registry rule's status, from the outcomes of the tests that carry it."""
    return {
        rule: _rule_result(rule, title, [t for t in tests if rule in t.rules], declared.get(rule), selected)
        for rule, title in titles.items()
    }


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
        confirmed = [t for t in tests if t.outcome == "xfailed"]
        unexpected = [t for t in tests if t.outcome in ("failed", "error", "xpassed")]
        if unexpected:
            detail = f"declared ({reason}) but {_describe(unexpected[0])}"
            return RuleResult(rule, title, ERROR, names, detail)
        if confirmed or ran:
            return RuleResult(rule, title, DECLARED, names, reason)
        return RuleResult(rule, title, SKIPPED, names, _skip_detail(skipped))
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
    lines = [
        f"tracestore conformance: {report.store} (profile {report.profile}, {report.connection_string!r})"
    ]
    for result in report.results.values():
        line = f"{result.rule:<4} {result.status:<11}  {result.title}"
        if result.detail:
            line += f"  ({_one_line(result.detail, width)})"
        lines.append(line)
        if verbose and result.status in (FAIL, ERROR):
            lines.extend(f"{result.rule:<4} | {detail_line}" for detail_line in result.detail.splitlines())
    lines.extend(f"error: {error}" for error in report.errors)
    counts = report.counts()
    parts = [f"{counts[PASS]} passed", f"{counts[FAIL]} failed", f"{counts[DECLARED]} declared"]
    parts += [f"{counts[SKIPPED]} skipped", f"{counts[NOT_CHECKED]} not checked", f"{counts[ERROR]} errors"]
    lines.append(f"{', '.join(parts)} in {report.duration:.1f}s")
    lines.append(
        f"conformance: {counts[PASS]} passed, {counts[FAIL] + counts[ERROR] + len(report.errors)} failed"
    )
    return "\n".join(lines)


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
        "rules": {
            rule: {"status": r.status, "title": r.title, "tests": r.tests, "detail": r.detail}
            for rule, r in report.results.items()
        },
        "tests": [dataclasses.asdict(t) | {"duration": round(t.duration, 3)} for t in report.tests],
    }


def write_json(report: KitReport, path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(to_json(report), out, indent=2)
        out.write("\n")
