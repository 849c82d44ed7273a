"""``python -m conformance``: see ``conformance.cli``."""

from __future__ import annotations

from conformance.cli import main

raise SystemExit(main(prog="python -m conformance"))
