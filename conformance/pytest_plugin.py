"""The kit's pytest plugin (entry point ``pytest11``): the ``rule`` marker and ``--tracestore-profile``.

Kept free of heavy imports: pytest loads it in every session of this environment.
"""

from __future__ import annotations

from typing import List

import pytest

from conformance import profiles
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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*ids): the contract rule IDs (E1-E5, S1-S15) a tracestore conformance test checks",
    )
    try:
        profiles.select(config.getoption("tracestore_profile", default=None))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_report_header(config: pytest.Config) -> List[str]:
    return [f"tracestore conformance profile: {profiles.current_name()}"]
