"""``python -m conformance``: see ``conformance.cli``."""

from __future__ import annotations

from conformance.cli import run

raise SystemExit(run(prog="python -m conformance"))
