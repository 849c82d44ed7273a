"""``python -m conformance`` and ``tracestore-check``: name a missing kit extra, else run the CLI."""

from __future__ import annotations

import importlib.util
import sys
from typing import List, Optional, Sequence

#: The packages the kit runs on; the ``kit`` extra installs them.
KIT_REQUIREMENTS = ("pytest", "hypothesis")


def missing_requirements() -> List[str]:
    """The kit's third-party packages that cannot be imported here."""
    return [name for name in KIT_REQUIREMENTS if importlib.util.find_spec(name) is None]


def main(argv: Optional[Sequence[str]] = None, prog: str = "tracestore-check") -> int:
    missing = missing_requirements()
    if missing:
        print(
            f"{prog}: the conformance kit needs {' and '.join(missing)}, which is not installed; "
            "run: pip install 'tracestore[kit]'",
            file=sys.stderr,
        )
        return 2
    from conformance.cli import run

    return run(argv, prog=prog)


if __name__ == "__main__":
    raise SystemExit(main(prog="python -m conformance"))
