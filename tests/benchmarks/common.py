"""Small shared pieces for the benchmarks: timing, interleaving, table printing."""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from typing import Callable, Dict, List, Optional, Sequence, Tuple, TypeVar

T = TypeVar("T")

# The filter benchmarks' queries of ``tests.support.workload.FILTER_MODULE`` (its 15 functions:
# func0, func1, Handler2.handle2, func3, ...): each has 2,000 matches in ``filter_corpus(100_000)``.
FILTER_QUERIES: List[Tuple[str, Optional[str]]] = [
    ("no prefix", None),
    ("'Handler': 5 of 15 functions", "Handler"),
    ("'func1': 4 of 15 functions", "func1"),
    ("'Handler2': one function", "Handler2"),
]


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per figure")
    return parser.parse_args()


def timed(func: Callable[[], T]) -> Tuple[float, T]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def interleaved(candidates: Dict[str, Callable[[], object]], rounds: int) -> Dict[str, float]:
    """Run every candidate once per round, alternating, and return each one's median seconds.

    Alternating spreads the noise of a shared machine evenly over the candidates.
    """
    seconds: Dict[str, List[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, run in candidates.items():
            seconds[name].append(timed(run)[0])
    return {name: statistics.median(values) for name, values in seconds.items()}


def peak_memory(func: Callable[[], object]) -> int:
    """Peak bytes allocated by Python while ``func`` runs (tracemalloc)."""
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(c) for c in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for index, row in enumerate(cells):
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)))
        if index == 0:
            print("  " + "  ".join("-" * width for width in widths))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
