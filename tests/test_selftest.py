"""The kit's self-test: it fails every faulty store on the rule it breaks and passes every correct store.

It also runs the kit on MonkeyType 23.3.0's bundled ``SQLiteStore``, unchanged, and
checks that exactly the rules that store really breaks are reported.

Run as ``python -m tests.test_selftest [--profile NAME] [--table FILE]`` to print the
table "faulty store -> rule -> caught by test" from a real run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import pathlib
import sys
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Type

import pytest

from conformance.report import ERROR, FAIL, PASS, SKIPPED, KitReport, format_text
from conformance.rules import RULES
from conformance.runner import run_kit
from tests.faulty_stores import BASELINES, FAULTY_STORES

PROFILE = "dev"
STORE_RULES = [f"S{number}" for number in range(1, 16)]

#: Cheap rules run next to each faulty store's own rule, so collateral failures show.
COMPANIONS = ("S1", "S8")


def faulty_run(store: Type[Any], profile: str = PROFILE) -> Tuple[KitReport, float]:
    """The kit restricted to the store's own rule and the companions; and the run's wall time."""
    rules = list(dict.fromkeys([store.breaks, *COMPANIONS]))
    started = time.perf_counter()
    report = run_kit(store, profile=profile, rules=rules)
    return report, time.perf_counter() - started


def statuses(report: KitReport, *wanted: str) -> List[str]:
    return sorted((rule for rule, result in report.results.items() if result.status in wanted), key=_rule_key)


def catching_tests(report: KitReport, rule: str) -> List[str]:
    """The kit tests of ``rule`` that failed."""
    return [test.name for test in report.tests if rule in test.rules and test.outcome == "failed"]


def _rule_key(rule: str) -> Tuple[str, int]:
    return rule[0], int(rule[1:])


# -- faulty stores --------------------------------------------------------------------------


def test_every_store_rule_is_broken_by_some_faulty_store() -> None:
    broken = {store.breaks for store in FAULTY_STORES}
    assert set(STORE_RULES) - broken == set()
    assert broken <= set(RULES), broken - set(RULES)


@pytest.mark.parametrize("store", FAULTY_STORES, ids=lambda store: store.__name__)
def test_faulty_store_is_documented(store: Type[Any]) -> None:
    assert (store.__doc__ or "").startswith(f"{store.breaks}: "), store.__doc__
    assert getattr(importlib.import_module("tests.faulty_stores"), store.__name__) is store


@pytest.mark.parametrize("store", FAULTY_STORES, ids=lambda store: store.__name__)
def test_the_kit_fails_each_faulty_store_on_the_rule_it_breaks(store: Type[Any]) -> None:
    report, elapsed = faulty_run(store)
    failed = statuses(report, FAIL, ERROR)
    collateral = [rule for rule in failed if rule != store.breaks]
    print(
        f"{store.__name__}: breaks {store.breaks}; failed {failed}; collateral {collateral}; {elapsed:.1f}s"
    )
    assert report.errors == [], report.errors
    assert report.results[store.breaks].status == FAIL, format_text(report, verbose=True)


# -- correct stores -------------------------------------------------------------------------

#: Rules a correct store may have SKIPPED (with the kit's reason), because the store lacks
#: the optional capability the rule is about.
OPTIONAL_RULES: Dict[str, str] = {}


@contextlib.contextmanager
def _postgres_template() -> Iterator[str]:
    from tests.support.postgres import SchemaFactory, require_server, server_dsn, with_params

    require_server()
    factory = SchemaFactory("selftest")
    try:
        yield with_params(server_dsn(), tracestore_schema=factory.prefix + "{unique}")
    finally:
        factory.drop_all()


CORRECT_STORES = [
    "reference_stores.memory:InMemoryStore",
    "reference_stores.sqlite:SQLiteStore",
    "reference_stores.lmdb:LMDBStore",
    "reference_stores.postgres:PostgresStore",
    *(f"tests.faulty_stores:{store.__name__}" for store in BASELINES),
]


@contextlib.contextmanager
def connection_template(path: str) -> Iterator[Optional[str]]:
    """The template to run ``path`` with (``None``: the class's own example)."""
    module = path.partition(":")[0]
    if importlib.util.find_spec(module) is None:
        pytest.xfail(f"{module} not yet written")
    if module == "reference_stores.postgres":
        with _postgres_template() as template:
            yield template
    else:
        yield None


@pytest.mark.parametrize("path", CORRECT_STORES)
def test_the_kit_passes_each_correct_store(path: str) -> None:
    started = time.perf_counter()
    with connection_template(path) as template:
        report = run_kit(path, connection_string=template, profile=PROFILE)
    print(f"{path}: {time.perf_counter() - started:.1f}s")
    print(format_text(report))
    assert report.errors == [], report.errors
    unexpected = {
        rule: f"{result.status}: {result.detail}"
        for rule, result in report.results.items()
        if result.status != PASS and not (result.status == SKIPPED and rule in OPTIONAL_RULES)
    }
    assert unexpected == {}, format_text(report, verbose=True)


# -- MonkeyType's bundled store, unchanged ------------------------------------------------------

MONKEYTYPE_STORE = "monkeytype.db.sqlite:SQLiteStore"
MONKEYTYPE_TEMPLATE = "{directory}/mt.sqlite3"

#: The rules MonkeyType 23.3.0's SQLiteStore really breaks (monkeytype/db/sqlite.py), and why.
MONKEYTYPE_DEFECTS: Dict[str, str] = {
    # filter() matches the prefix with ``qualname LIKE ? || '%'``: ``%`` and ``_`` in the
    # prefix are wildcards, and SQLite's LIKE folds ASCII case, so "foo" matches "Foo.bar".
    "S3": "LIKE prefix: wildcards and case-folding",
}

#: Rules MonkeyType's store must pass: it gets them right.
MONKEYTYPE_RIGHT = ("S1", "S2", "S6", "S8", "S9", "S13")


@pytest.fixture(scope="module")
def monkeytype_report() -> KitReport:
    return run_kit(MONKEYTYPE_STORE, connection_string=MONKEYTYPE_TEMPLATE, profile=PROFILE)


def test_monkeytypes_store_fails_exactly_the_rules_it_breaks(monkeytype_report: KitReport) -> None:
    print(format_text(monkeytype_report))
    assert monkeytype_report.errors == [], monkeytype_report.errors
    assert statuses(monkeytype_report, FAIL, ERROR) == sorted(MONKEYTYPE_DEFECTS, key=_rule_key)


@pytest.mark.parametrize("rule", MONKEYTYPE_RIGHT)
def test_monkeytypes_store_passes_the_rules_it_gets_right(monkeytype_report: KitReport, rule: str) -> None:
    assert monkeytype_report.results[rule].status == PASS, monkeytype_report.results[rule]


# -- the table ----------------------------------------------------------------------------------


def table(profile: str, stores: Sequence[Type[Any]] = FAULTY_STORES) -> str:
    """Run every faulty store and return the markdown table of what caught it."""
    lines = [
        f"| faulty store | breaks | reported | caught by | collateral | seconds |  (profile {profile})",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for store in stores:
        report, elapsed = faulty_run(store, profile)
        status = report.results[store.breaks].status
        caught = ", ".join(catching_tests(report, store.breaks)) or "-"
        collateral = ", ".join(r for r in statuses(report, FAIL, ERROR) if r != store.breaks) or "-"
        lines.append(
            f"| {store.__name__} | {store.breaks} | {status} | {caught} | {collateral} | {elapsed:.1f} |"
        )
        print(lines[-1], flush=True)
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default=PROFILE)
    parser.add_argument("--table", type=pathlib.Path, help="also write the markdown table here")
    args = parser.parse_args(argv)
    text = table(args.profile)
    if args.table is not None:
        args.table.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
