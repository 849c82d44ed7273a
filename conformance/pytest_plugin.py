"""The kit's pytest plugin (entry point ``pytest11``): markers, ``--tracestore-profile``, the rule table.

Kept free of heavy imports: pytest loads it in every session of this environment.
"""

from __future__ import annotations

from typing import List

import pytest

from conformance import profiles, requirements
from conformance.rules import MARKER


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
    try:
        profiles.select(config.getoption("tracestore_profile", default=None))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    from conformance import session_report

    chosen = session_report.destinations(config.getoption("tracestore_report", default=None))
    config.pluginmanager.register(session_report.SessionReport(chosen), "tracestore-session-report")


def pytest_report_header(config: pytest.Config) -> List[str]:
    return [f"tracestore conformance profile: {profiles.current_name()}"]
