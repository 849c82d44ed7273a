"""The project's own Hypothesis tests (the kit's use its profiles): derandomized under CI, so a
failure reproduces and prints its minimal example; no deadline, as stores do I/O."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("tracestore-tests", deadline=None)
settings.register_profile(
    "tracestore-tests-ci", deadline=None, derandomize=True, database=None, print_blob=True
)
settings.load_profile("tracestore-tests-ci" if os.environ.get("CI") else "tracestore-tests")
