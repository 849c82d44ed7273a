"""Encoding speed: tracestore's cached ``serialize_traces`` against MonkeyType 23.3.0's.

Run: ``python -m tests.benchmarks.bench_encoding [--quick]`` (or ``nox -s bench``).
Both encoders run on the same repetitive production-like workload, alternately,
in this one process; the figure that matters is the ratio.  Their whole outputs are
compared first (byte-identical, E3), and the encoding cache's size is printed last.
"""

from __future__ import annotations

from typing import Any, List

from monkeytype.encoding import serialize_traces as monkeytype_serialize

from tests.benchmarks.common import interleaved, parse_args, print_table, timed
from tests.support.workload import production_workload
from tracestore import serialize_traces
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
    traces: List[Any] = production_workload(n)  # Any: MonkeyType's encoder takes our traces
    _TYPE_JSON.clear()
    _ARGS_JSON.clear()
    cold, rows = timed(lambda: list(serialize_traces(traces)))
    ours = [r.as_tuple() for r in rows]
    theirs = [
        (r.module, r.qualname, r.arg_types, r.return_type, r.yield_type) for r in monkeytype_serialize(traces)
    ]
    assert ours == theirs, "encodings differ: the benchmark would compare different work"
    distinct = len(set(ours))
    del rows, ours, theirs
    medians = interleaved(
        {"monkeytype": lambda: _theirs(traces), "tracestore": lambda: _ours(traces)}, args.rounds
    )
    base = medians["monkeytype"]
    figures = [
        ("MonkeyType 23.3.0 serialize_traces", n / base, 1.0),
        ("tracestore serialize_traces (warm cache)", n / medians["tracestore"], base / medians["tracestore"]),
        ("tracestore serialize_traces (cold cache, 1st pass)", n / cold, base / cold),
    ]
    print_table(
        f"Encoding {n:,} production-like traces, {distinct:,} distinct, output identical to MonkeyType's "
        f"(median of {args.rounds} interleaved rounds)",
        ("encoder", "traces/s", "x MonkeyType (>=10)"),
        figures,
    )
    stats = encoding_cache_stats()
    print_table(
        "Encoding cache (keys and values; the types it keeps alive are the program's own)",
        ("cache", "entries", "approx bytes"),
        [(name, s.entries, s.approx_bytes) for name, s in stats.items()],
    )


if __name__ == "__main__":
    main()
