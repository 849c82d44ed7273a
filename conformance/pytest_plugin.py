"""The kit's pytest plugin (entry point ``pytest11``): markers, ``--tracestore-profile``, the rule
table, and the check that a declared deviation did deviate.

Kept free of heavy imports: pytest loads it in every session of this environment.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

import pytest

from conformance import profiles, requirements
from conformance.rules import MARKER, declared_rule


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tracestore", "tracestore conformance kit")
    group.addoption(
        "--tracestore-profile",
        dest="tracestore_profile",
        default=None,
        choices=sorted(profiles.PROFILES),
        help=f"Hypothesis settings profile of the kit's tests (default: ${profiles.ENV_VAR}, "
        "else 'ci' when $CI is set, else 'dev')",
    )
    group.addoption(
        "--tracestore-report",
        dest="tracestore_report",
        action="append",
        default=None,
        metavar="text|none|json:PATH",
        help="after a session that ran kit tests, print each test class's per-rule table (text, the "
        "default), print nothing (none), or also write the CLI's JSON report to PATH (json:PATH); "
        "may be given more than once",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*ids): the contract rule IDs (E1-E5, S1-S15) a tracestore conformance test checks",
    )
    config.addinivalue_line(
        "markers",
        f"{requirements.MARKER}(capability, rule): the capability a tracestore conformance test needs",
    )
    config.pluginmanager.register(DeclaredDeviations(config), "tracestore-declared-deviations")
    try:
        profiles.select(config.getoption("tracestore_profile", default=None))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    from conformance import session_report

    chosen = session_report.destinations(config.getoption("tracestore_report", default=None))
    config.pluginmanager.register(session_report.SessionReport(chosen), "tracestore-session-report")


def pytest_report_header(config: pytest.Config) -> List[str]:
    return [f"tracestore conformance profile: {profiles.current_name()}"]


class DeclaredDeviations:
    """Fails the session when every test of a declared deviation passed (the store does not
    deviate); the tests themselves are non-strict xfails, so their passes fail nothing."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.outcomes: Dict[Tuple[str, str], List[str]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        rule = declared_rule(str(getattr(report, "wasxfail", "")))
        if rule and report.when == "call":
            owner = report.nodeid.rpartition("::")[0]
            self.outcomes.setdefault((owner, rule), []).append("xfailed" if report.skipped else "xpassed")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        wrong = sorted(key for key, found in self.outcomes.items() if "xfailed" not in found)
        if not wrong:
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        for owner, rule in wrong:
            message = (
                f"tracestore conformance: {owner} declares a deviation from {rule}, but every test of "
                f"{rule} passed; remove it from declared_deviations"
            )
            if reporter is not None:
                reporter.write_line(message, red=True)
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
