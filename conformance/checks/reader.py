"""Reopen a store in a new process (S10): ``python -m conformance.checks.reader`` answers queries.

The parent sends one JSON request on stdin; the child opens the store with
``make_store(connection_string)``, asks each ``filter`` query and prints the keyed answers as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from conformance.checks.writers import load_class
from conformance.model import RowKey, trace_key
from conformance.strategies.synthetic import REGISTRY

Query = Tuple[str, Optional[str], Optional[int]]
"""``(module, prefix, limit)``; ``limit=None`` leaves the store's default."""

READ_TIMEOUT = 120.0
"""Seconds the reader process may take before it is killed and the check fails."""


def describe_query(query: Query) -> str:
    module, prefix, limit = query
    return f"filter({module!r}, {prefix!r}{'' if limit is None else f', {limit}'})"


def read_in_new_process(
    store_class: Any,
    connection_string: str,
    queries: Sequence[Query],
    synthetic: Iterable[Tuple[str, str]] = (),
) -> List[List[RowKey]]:
    """Each query's keyed answer from a new process that opens ``connection_string``.

    ``synthetic`` lists the runtime functions (``conformance.strategies.synthetic``) the child
    must make before decoding. Raises ``AssertionError`` naming what failed, with the child's
    traceback, when the child raises, exits badly or runs past ``READ_TIMEOUT`` (it is killed).
    """
    request = {
        "class": [store_class.__module__, store_class.__qualname__],
        "connection_string": connection_string,
        "queries": [list(q) for q in queries],
        "synthetic": [list(pair) for pair in synthetic],
    }
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    command = [sys.executable, "-m", __name__]
    what = f"a new process opening {store_class.__qualname__}.make_store({connection_string!r})"
    try:
        done = subprocess.run(  # kills the child when the timeout expires
            command, input=json.dumps(request), env=env, capture_output=True, text=True, timeout=READ_TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"{what} did not answer within {READ_TIMEOUT:.0f}s; it was killed") from exc
    if done.returncode != 0:
        raise AssertionError(f"{what} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    last = done.stdout.strip().splitlines()[-1:] or [""]
    try:
        answers = json.loads(last[0])["answers"]
    except (ValueError, KeyError, TypeError) as exc:
        raise AssertionError(f"{what} printed no answers: {done.stdout[-2000:]!r}") from exc
    return [[tuple(key) for key in answer] for answer in answers]


def main() -> int:
    request = json.loads(sys.stdin.read())
    for module, qualname in request["synthetic"]:
        REGISTRY.function(module, qualname)
    store_class = load_class(*request["class"])
    connection_string = request["connection_string"]
    step = f"{store_class.__qualname__}.make_store({connection_string!r})"
    try:
        store = store_class.make_store(connection_string)
        answers = []
        for module, prefix, limit in request["queries"]:
            step = describe_query((module, prefix, limit))
            thunks = store.filter(module, prefix) if limit is None else store.filter(module, prefix, limit)
            step = f"to_trace() of a thunk from {step}"
            answers.append([list(trace_key(thunk.to_trace())) for thunk in thunks])
        step = "close()"
        close = getattr(store, "close", None)
        if callable(close):
            close()
    except Exception as exc:
        print(f"{step} raised {type(exc).__name__}: {exc}\n{traceback.format_exc()}", file=sys.stderr)
        return 1
    print(json.dumps({"answers": answers}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
