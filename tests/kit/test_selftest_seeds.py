"""The same verdict on every run: each faulty store is caught on its own rule under 10 seeds of ``dev``.

The test runs every store of ``FAULTY_STORES`` in a subprocess (two at a time), which runs
the kit restricted to the store's ``breaks`` rule once per seed (``TRACESTORE_SEED``), with
shrinking off (it never changes whether a fault is found), and prints one JSON line per run.

``python -m tests.kit.test_selftest_seeds STORE [STORE ...]`` is that subprocess;
``python -m tests.kit.test_selftest_seeds --also-fails`` runs the whole kit (ci profile) on
each store and prints the other rules it fails, the measure behind each ``also_fails``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence, Tuple, Type

import pytest

from conformance import profiles
from conformance.report import ERROR, FAIL
from conformance.runner import run_kit
from tests.faulty_stores import FAULTY_STORES

SEEDS = (0, 1, 2, 3, 5, 8, 13, 21, 1234, 20260101)
"""Ten seeds of the dev profile (``conformance.profiles``)."""
PROFILE = "dev"
WORKERS = 2
STORE_TIMEOUT = 900.0
"""Seconds one store's ten seeded runs may take before the subprocess is killed (nothing hangs)."""
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

Run = Dict[str, Any]


def _by_name() -> Dict[str, Type[Any]]:
    return {store.__name__: store for store in FAULTY_STORES}


def seeded_runs(store: Type[Any], seeds: Sequence[int] = SEEDS) -> List[Run]:
    """Run the kit on ``store``, restricted to its rule, once per seed; one record per run."""
    records = []
    for seed in seeds:
        os.environ[profiles.SEED_VAR] = str(seed)
        started = time.perf_counter()
        report = run_kit(store, profile=PROFILE, rules=[store.breaks])
        result = report.results[store.breaks]
        caught_by = [t.name for t in report.tests if store.breaks in t.rules and t.outcome == "failed"]
        records.append(
            {
                "store": store.__name__,
                "rule": store.breaks,
                "seed": seed,
                "status": result.status,
                "caught_by": caught_by,
                "errors": report.errors,
                "seconds": round(time.perf_counter() - started, 2),
            }
        )
    return records


def _subprocess_runs(names: Sequence[str]) -> Tuple[List[Run], str]:
    """Run ``names`` in a child process; its records, and its stderr when it did not finish."""
    env = {**os.environ, profiles.SHRINK_VAR: "0"}
    env.pop("CI", None)
    env.pop(profiles.ENV_VAR, None)
    command = [sys.executable, "-m", "tests.kit.test_selftest_seeds", *names]
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=STORE_TIMEOUT * len(names)
        )
    except subprocess.TimeoutExpired as timeout:  # subprocess.run kills the child first
        return [], f"{' '.join(names)}: no answer within {timeout.timeout:.0f} s"
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    problem = (
        "" if done.returncode == 0 else f"{' '.join(names)} exited {done.returncode}:\n{done.stderr[-3000:]}"
    )
    return records, problem


@pytest.mark.selftest_seeds
def test_every_faulty_store_is_caught_on_every_seed() -> None:
    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        answers = list(pool.map(lambda store: _subprocess_runs([store.__name__]), FAULTY_STORES))
    records = [record for found, _ in answers for record in found]
    problems = [problem for _, problem in answers if problem]
    missed = [r for r in records if r["status"] != FAIL or r["errors"]]
    seconds: Dict[str, float] = {}
    for record in records:
        seconds[record["store"]] = seconds.get(record["store"], 0.0) + record["seconds"]
    caught = len(records) - len(missed)
    print(f"{caught}/{len(FAULTY_STORES) * len(SEEDS)} store-seed runs caught (seeds {list(SEEDS)})")
    total = sum(seconds.values())
    print(f"wall time {time.perf_counter() - started:.0f} s ({total:.0f} s of kit runs); slowest stores:")
    for name, total in sorted(seconds.items(), key=lambda item: -item[1])[:5]:
        print(f"  {name}: {total:.1f} s for {len(SEEDS)} seeds")
    assert problems == [], "\n".join(problems)
    assert missed == [], "\n".join(json.dumps(r) for r in missed)
    assert len(records) == len(FAULTY_STORES) * len(SEEDS)


def also_fails(store: Type[Any]) -> List[str]:
    """The rules other than ``store.breaks`` that the whole kit (ci profile) fails ``store`` on."""
    report = run_kit(store, profile="ci")
    failing = [rule for rule, result in report.results.items() if result.status in (FAIL, ERROR)]
    return sorted((rule for rule in failing if rule != store.breaks), key=lambda r: (r[0], int(r[1:])))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Seeded self-test runs of faulty stores (JSON lines).")
    parser.add_argument("stores", nargs="*", help="faulty store class names (default: all)")
    parser.add_argument("--also-fails", action="store_true", help="measure each store's also_fails")
    args = parser.parse_args(argv)
    known = _by_name()
    unknown = [name for name in args.stores if name not in known]
    if unknown:
        parser.error(f"unknown faulty stores: {', '.join(unknown)}")
    chosen = [known[name] for name in args.stores] or list(FAULTY_STORES)
    for store in chosen:
        if args.also_fails:
            print(
                json.dumps({"store": store.__name__, "breaks": store.breaks, "also_fails": also_fails(store)})
            )
        else:
            for record in seeded_runs(store):
                print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
