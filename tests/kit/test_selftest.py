"""The kit's self-test: it fails every faulty store on the rule it breaks and passes every correct store.

It also runs the kit on MonkeyType 23.3.0's bundled ``SQLiteStore``, unchanged, and
checks that exactly the rules that store really breaks are reported.

Every faulty store runs through the whole kit (all rules): its ``breaks`` rule must fail,
and the other rules that fail must be exactly its ``also_fails``.
``python -m tests.kit.test_selftest [--profile NAME] [--table FILE]`` runs every faulty
store and prints (and writes) the table "faulty store -> rules that fail" from that real run.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import pathlib
import sys
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Type

import pytest

from conformance.report import ERROR, FAIL, PASS, SKIPPED, KitReport, format_text
from conformance.rules import RULES, rule_sort_key
from conformance.runner import run_kit
from tests.faulty_stores import BASELINES, FAULTY_STORES
from tracestore.loading import load_store_class

FAULTY_PROFILE = "ci"  # derandomized: a faulty store is caught (or missed) the same way every run
CORRECT_PROFILE = "ci"
MONKEYTYPE_PROFILE = "ci"
STORE_RULES = [f"S{number}" for number in range(1, 16)]


def run_timed(store: Any, **options: Any) -> Tuple[KitReport, float]:
    started = time.perf_counter()
    report = run_kit(store, **options)
    return report, time.perf_counter() - started


def faulty_run(store: Type[Any], profile: str = FAULTY_PROFILE) -> Tuple[KitReport, float]:
    """The whole kit (every rule) on a faulty store; and the run's wall time."""
    return run_timed(store, profile=profile)


def expected_failures(store: Type[Any]) -> List[str]:
    """The rules the whole kit must fail for ``store``: its ``breaks`` and its ``also_fails``."""
    return sorted({store.breaks, *store.also_fails}, key=rule_sort_key)


def failing(report: KitReport) -> List[str]:
    """The rules reported FAIL or ERROR, in rule order."""
    found = [rule for rule, result in report.results.items() if result.status in (FAIL, ERROR)]
    return sorted(found, key=rule_sort_key)


def catching_tests(report: KitReport, rule: str) -> List[str]:
    """The kit tests of ``rule`` that failed."""
    return [test.name for test in report.tests if rule in test.rules and test.outcome == "failed"]


# -- faulty stores --------------------------------------------------------------------------


def test_every_store_rule_is_broken_by_some_faulty_store() -> None:
    broken = {store.breaks for store in FAULTY_STORES}
    assert set(STORE_RULES) - broken == set()
    assert broken <= set(RULES), broken - set(RULES)


@pytest.mark.parametrize("store", FAULTY_STORES, ids=lambda store: store.__name__)
def test_faulty_store_is_documented_and_importable(store: Type[Any]) -> None:
    assert (store.__doc__ or "").startswith(f"{store.breaks}: "), store.__doc__
    assert getattr(importlib.import_module("tests.faulty_stores"), store.__name__) is store
    assert isinstance(store.example_connection_string, str)
    assert isinstance(store.also_fails, frozenset) and store.also_fails <= set(RULES), store.also_fails
    assert store.breaks not in store.also_fails


@pytest.mark.parametrize("store", FAULTY_STORES, ids=lambda store: store.__name__)
def test_the_whole_kit_fails_each_faulty_store_on_exactly_its_expected_rules(store: Type[Any]) -> None:
    """The store's own rule fails, and the other rules that fail are exactly its ``also_fails``."""
    report, elapsed = faulty_run(store)
    caught = catching_tests(report, store.breaks)
    print(f"{store.__name__}: breaks {store.breaks}; failed {failing(report)} by {caught}; {elapsed:.1f}s")
    assert report.errors == [], report.errors
    assert report.results[store.breaks].status == FAIL, format_text(report, verbose=True)
    assert failing(report) == expected_failures(store), format_text(report, verbose=True)


# -- correct stores -------------------------------------------------------------------------

CORRECT_STORES = [
    "reference_stores.memory:InMemoryStore",
    "reference_stores.sqlite:SQLiteStore",
    "reference_stores.lmdb:LMDBStore",
    "reference_stores.postgres:PostgresStore",
    "reference_stores.mysql:MySQLStore",
    "reference_stores.redis:RedisStore",
    *(f"tests.faulty_stores:{store.__name__}" for store in BASELINES),
]

#: Rules a correct store may have SKIPPED, and when (given its report and the rule's detail):
#: S14's bad connection strings are made from a file-system path, so a store whose connection
#: string names none (memory, a server) is not checked (PostgresStore's S14 is tested in
#: test_postgres_store.py); S10 is not checked for a store that declares process_local = True,
#: and the report must say so.
OPTIONAL_RULES: Dict[str, Callable[[KitReport, str], bool]] = {
    "S14": lambda report, detail: "{directory}" not in report.connection_string,
    "S10": lambda report, detail: (
        bool(getattr(load_store_class(report.store), "process_local", False))
        and "is process-local (process_local = True)" in detail
    ),
}


@contextlib.contextmanager
def _postgres_template() -> Iterator[str]:
    from tests.support.postgres import SchemaFactory, require_server, server_dsn, with_params

    require_server()
    factory = SchemaFactory("selftest")
    try:
        yield with_params(server_dsn(), tracestore_schema=factory.prefix + "{unique}")
    finally:
        factory.drop_all()


@contextlib.contextmanager
def connection_template(path: str) -> Iterator[Optional[str]]:
    """The template to run ``path`` with (``None``: the class's own ``example_connection_string``)."""
    module = path.partition(":")[0]  # a missing reference store is an error: importing it fails
    if module == "reference_stores.postgres":
        with _postgres_template() as template:
            yield template
    elif module == "reference_stores.mysql":
        from tests.support.mysql import require_server

        require_server()  # then the class's own example string: the runner drops each table it made
        yield None
    else:
        yield None


def unexpected_statuses(report: KitReport) -> Dict[str, str]:
    """Every rule whose status a correct store must not get."""
    found = {}
    for rule, result in report.results.items():
        if result.status == PASS:
            continue
        if (
            result.status == SKIPPED
            and rule in OPTIONAL_RULES
            and OPTIONAL_RULES[rule](report, result.detail)
        ):
            continue
        found[rule] = f"{result.status}: {result.detail}"
    return found


@pytest.mark.parametrize("path", CORRECT_STORES)
def test_the_kit_passes_each_correct_store(path: str) -> None:
    with connection_template(path) as template:
        report, elapsed = run_timed(path, connection_string=template, profile=CORRECT_PROFILE)
    print(format_text(report))
    print(f"{path}: full kit, profile {CORRECT_PROFILE}: {elapsed:.1f}s")
    assert report.errors == [], report.errors
    assert unexpected_statuses(report) == {}, format_text(report, verbose=True)


# -- MonkeyType's bundled store, unchanged ------------------------------------------------------

MONKEYTYPE_STORE = "monkeytype.db.sqlite:SQLiteStore"
MONKEYTYPE_TEMPLATE = "{directory}/mt.sqlite3"

#: The rules MonkeyType 23.3.0's SQLiteStore (monkeytype/db/sqlite.py) really breaks, and why.
MONKEYTYPE_DEFECTS: Dict[str, str] = {
    # type_from_dict builds a decoded TypedDict with mypy_extensions.TypedDict inside
    # monkeytype/encoding.py, so its __module__ is "monkeytype.encoding": the row encoded
    # from a decoded trace names that module, not the one the stored row names.
    "E2": "a decoded TypedDict's row names module monkeytype.encoding",
    # make_query matches the prefix with ``qualname LIKE ? || '%'``: ``%`` and ``_`` in the
    # prefix are wildcards (filter(m, "a_") returns "aXb"), and SQLite's LIKE folds ASCII
    # case, so "foo" matches "Foo.bar".
    "S3": "LIKE prefix: wildcards and case-folding",
    # The limit goes straight into ``LIMIT ?``; SQLite reads a negative LIMIT as "no limit",
    # so filter(m, limit=-1) returns every trace instead of raising ValueError.
    "S4": "a negative limit means no limit",
    # ``ORDER BY date(created_at) DESC``: recency is resolved to the day, so among traces
    # added the same day the LIMIT keeps whichever rows GROUP BY happens to list first
    # (sorted by the row's text), not the most recent ones.
    "S5": "most recent resolved only to the day",
    # make_store opens one sqlite3 connection with the default check_same_thread=True: an
    # add from any other thread raises sqlite3.ProgrammingError ("SQLite objects created in
    # a thread can only be used in that same thread").
    "S11": "its connection cannot be used from other threads",
    # sqlite3.connect on a path beneath a regular file raises sqlite3.OperationalError
    # "unable to open database file", which does not say which path nor why.
    "S14": "the error for a bad path does not name it",
}

#: Rules MonkeyType's store gets right, among them those the brief names.
MONKEYTYPE_RIGHT = ("S1", "S2", "S6", "S7", "S8", "S9", "S10", "S12", "S13", "E1", "E3", "E4", "E5")


@pytest.fixture(scope="module")
def monkeytype_report() -> KitReport:
    report, elapsed = run_timed(
        MONKEYTYPE_STORE, connection_string=MONKEYTYPE_TEMPLATE, profile=MONKEYTYPE_PROFILE
    )
    print(format_text(report))
    print(f"{MONKEYTYPE_STORE}: full kit, profile {MONKEYTYPE_PROFILE}: {elapsed:.1f}s")
    return report


def test_monkeytypes_store_fails_exactly_the_rules_it_breaks(monkeytype_report: KitReport) -> None:
    assert monkeytype_report.errors == [], monkeytype_report.errors
    assert failing(monkeytype_report) == list(MONKEYTYPE_DEFECTS), format_text(
        monkeytype_report, verbose=True
    )


def test_monkeytypes_store_passes_the_rules_it_gets_right(monkeytype_report: KitReport) -> None:
    wrong = {
        rule: f"{monkeytype_report.results[rule].status}: {monkeytype_report.results[rule].detail}"
        for rule in MONKEYTYPE_RIGHT
        if monkeytype_report.results[rule].status != PASS
    }
    assert wrong == {}


def test_monkeytypes_store_is_not_checked_for_an_order_it_does_not_claim(
    monkeytype_report: KitReport,
) -> None:
    result = monkeytype_report.results["S15"]
    assert result.status == SKIPPED and "ordered_results is False" in result.detail, result


def test_monkeytypes_store_would_fail_S15_if_it_claimed_most_recent_first() -> None:
    """The day-granular ORDER BY lists same-day traces by their text, not most recent first."""
    report, _ = run_timed(
        MONKEYTYPE_STORE,
        connection_string=MONKEYTYPE_TEMPLATE,
        profile=MONKEYTYPE_PROFILE,
        rules=["S15"],
        ordered_results=True,
    )
    assert report.results["S15"].status == FAIL, format_text(report, verbose=True)


# -- the table ----------------------------------------------------------------------------------


def table(profile: Optional[str], stores: Sequence[Type[Any]] = FAULTY_STORES) -> str:
    """Run the whole kit on every faulty store and return the markdown table of what failed.

    ``profile=None`` uses the self-test's ``FAULTY_PROFILE``.
    """
    shown = profile or FAULTY_PROFILE
    lines = [
        f"Whole kit per faulty store; profile {shown}.",
        "",
        "| faulty store | breaks | reported | caught by | other rules failed | as expected | seconds |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    total = 0.0
    for store in stores:
        report, elapsed = faulty_run(store, profile or FAULTY_PROFILE)
        total += elapsed
        status = report.results[store.breaks].status
        caught = ", ".join(catching_tests(report, store.breaks)) or "NOT CAUGHT"
        others = ", ".join(rule for rule in failing(report) if rule != store.breaks) or "-"
        expected = "yes" if failing(report) == expected_failures(store) and not report.errors else "NO"
        cells = [store.__name__, store.breaks, status, caught, others, expected, f"{elapsed:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    declared = sum(1 for store in stores if store.also_fails)
    lines.append("")
    lines.append(f"{len(stores)} faulty stores in {total:.0f} s; {declared} declare other rules they fail.")
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Run the kit on every faulty store and tabulate.")
    parser.add_argument("--profile", default=None, help="default: the self-test's choice per store")
    parser.add_argument("--table", type=pathlib.Path, help="also write the markdown table here")
    args = parser.parse_args(argv)
    text = table(args.profile)
    if args.table is not None:
        args.table.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
