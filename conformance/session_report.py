"""The per-rule table under plain pytest: one report per kit test class, as the CLI prints it.

Registered by ``conformance.pytest_plugin``. It groups the session's kit tests (those of a
``CallTraceStoreTests`` subclass) by class, records their outcomes with the CLI's own
collector, and at the end prints each class's table (``--tracestore-report=text``, the
default) and writes the CLI's JSON (``--tracestore-report=json:PATH``; several classes give
a JSON list). pytest's exit status is left as it is.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence

import pytest

from conformance import profiles
from conformance.report import (
    KitReport,
    ResultCollector,
    TestOutcome,
    format_text,
    item_rules,
    rule_results,
    to_json,
)
from conformance.rules import RULES, rule_sort_key

OPTION = "--tracestore-report"


class _KitClass:
    """One kit test class of the session: its outcomes and what its report needs."""

    def __init__(self, nodeid: str, cls: Any) -> None:
        self.nodeid = nodeid
        self.cls = cls
        self.collector = ResultCollector()
        self.deselected = False  # some of its tests were deselected (-k, -m): their rules are "not selected"

    def report(self) -> KitReport:
        titles = {rule: RULES[rule] for rule in sorted(RULES, key=rule_sort_key)}
        tests: List[TestOutcome] = list(self.collector.tests.values())
        declared: Dict[str, str] = dict(getattr(self.cls, "declared_deviations", {}))
        selected = {rule for test in tests for rule in test.rules} if self.deselected else None
        results = rule_results(titles, tests, declared, selected)
        template = getattr(self.cls, "connection_template", None) or "its own hooks"
        duration = sum(test.duration for test in tests)
        return KitReport(self.nodeid, profiles.current_name(), template, duration, results, tests, [])


class SessionReport:
    """A pytest plugin object: collects each kit class's outcomes and reports them at the end."""

    def __init__(self, destinations: Sequence[str]) -> None:
        self.text = "none" not in destinations and (not destinations or "text" in destinations)
        self.json_paths = [d[len("json:") :] for d in destinations if d.startswith("json:")]
        self.classes: Dict[str, _KitClass] = {}
        self.owner: Dict[str, _KitClass] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: List[pytest.Item]) -> None:
        for item in items:
            cls = getattr(item, "cls", None)
            if cls is None or not getattr(cls, "__tracestore_kit__", False):
                continue
            kit_class = self._kit_class(item, cls)
            kit_class.collector.tests[item.nodeid] = TestOutcome(item.name, item_rules(item))
            self.owner[item.nodeid] = kit_class

    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        for item in items:
            cls = getattr(item, "cls", None)
            if cls is not None and getattr(cls, "__tracestore_kit__", False):
                self._kit_class(item, cls).deselected = True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        kit_class = self.owner.get(report.nodeid)
        if kit_class is not None:
            kit_class.collector.pytest_runtest_logreport(report)

    def _kit_class(self, item: pytest.Item, cls: Any) -> _KitClass:
        parent = item.parent
        nodeid = parent.nodeid if parent is not None else cls.__qualname__
        kit_class = self.classes.get(nodeid)
        if kit_class is None:
            kit_class = self.classes[nodeid] = _KitClass(nodeid, cls)
        return kit_class

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        reports = [kit_class.report() for kit_class in self.classes.values() if kit_class.collector.tests]
        if not reports:
            return
        if self.text:
            for report in reports:
                terminalreporter.write_sep("=", f"tracestore conformance: {report.store}")
                for line in format_text(report).splitlines():
                    terminalreporter.write_line(line)
        for path in self.json_paths:
            data: Any = to_json(reports[0]) if len(reports) == 1 else [to_json(r) for r in reports]
            with open(path, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2)
                out.write("\n")
            terminalreporter.write_line(f"tracestore conformance: JSON report written to {path}")


def destinations(value: Optional[List[str]]) -> List[str]:
    """The ``--tracestore-report`` values, checked: ``text``, ``none`` or ``json:PATH``."""
    found = list(value or [])
    for destination in found:
        if destination not in ("text", "none") and not (destination.startswith("json:") and destination[5:]):
            raise pytest.UsageError(f"{OPTION} takes text, none or json:PATH, not {destination!r}")
    return found
