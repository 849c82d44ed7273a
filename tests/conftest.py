"""The project's own Hypothesis tests (the kit's use its profiles): derandomized on every run, with
or without CI, so no test depends on an unseeded run and a failure reproduces; no deadline, as
stores do I/O. Also registers the ``selftest_seeds`` marker (the long seeded self-test)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("tracestore-tests", deadline=None, derandomize=True, database=None)
settings.register_profile(
    "tracestore-tests-ci", deadline=None, derandomize=True, database=None, print_blob=True
)
settings.load_profile("tracestore-tests-ci" if os.environ.get("CI") else "tracestore-tests")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "selftest_seeds: runs every faulty store under 10 seeds (minutes); CI runs it once, "
        "select it with -m selftest_seeds or leave it out with -m 'not selftest_seeds'",
    )
