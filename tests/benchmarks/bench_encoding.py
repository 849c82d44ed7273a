"""Encoding speed: tracestore's cached ``serialize_traces`` against MonkeyType 23.3.0's.

Run: ``python -m tests.benchmarks.bench_encoding [--quick]`` (or ``nox -s bench``).
Both encoders run on the same repetitive production-like workload, alternately,
in this one process; the figure that matters is the ratio.
"""

from __future__ import annotations

from typing import Any, List

from monkeytype.encoding import serialize_traces as monkeytype_serialize

from tests.benchmarks.common import interleaved, parse_args, print_table, timed
from tests.support.workload import production_workload
from tracestore import CallTraceRow, serialize_traces
from tracestore.encoding import _ARGS_JSON, _TYPE_JSON, encoding_cache_stats


def _ours(traces: List[Any]) -> None:
    for _ in serialize_traces(traces):
        pass


def _theirs(traces: List[Any]) -> None:
    for _ in monkeytype_serialize(traces):
        pass


def main() -> None:
    args = parse_args(__doc__ or "")
    n = 20_000 if args.quick else 200_000
    traces = production_workload(n)
    ours = [CallTraceRow.from_trace(t) for t in traces[:2000]]
    sample: List[Any] = traces[:2000]
    theirs = list(monkeytype_serialize(sample))
    assert [r.as_tuple() for r in ours] == [
        (r.module, r.qualname, r.arg_types, r.return_type, r.yield_type) for r in theirs
    ], "encodings differ: the benchmark would compare different work"

    _TYPE_JSON.clear()
    _ARGS_JSON.clear()
    cold, _ = timed(lambda: _ours(traces))
    medians = interleaved(
        {"monkeytype": lambda: _theirs(traces), "tracestore": lambda: _ours(traces)}, args.rounds
    )
    base = medians["monkeytype"]
    rows = [
        ("MonkeyType 23.3.0 serialize_traces", n / base, 1.0),
        ("tracestore serialize_traces (warm cache)", n / medians["tracestore"], base / medians["tracestore"]),
        ("tracestore serialize_traces (cold cache, 1st pass)", n / cold, base / cold),
    ]
    print_table(
        f"Encoding {n:,} production-like traces (median of {args.rounds} interleaved rounds)",
        ("encoder", "traces/s", "x MonkeyType"),
        rows,
    )
    stats = encoding_cache_stats()
    print_table(
        "Encoding cache",
        ("cache", "entries", "approx bytes"),
        [(name, s.entries, s.approx_bytes) for name, s in stats.items()],
    )


if __name__ == "__main__":
    main()
