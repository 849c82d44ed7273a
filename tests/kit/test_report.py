"""Unit tests of the per-rule report: status derivation, failure summaries, text and JSON forms."""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any, Dict, List, Optional

import pytest

from conformance.cli import main
from conformance.report import (
    DECLARED,
    ERROR,
    FAIL,
    NOT_CHECKED,
    PASS,
    SKIPPED,
    KitReport,
    TestOutcome,
    clause_results,
    failure_summary,
    format_text,
    root_error,
    rule_results,
    to_json,
)

TITLES = {"S3": "qualname prefix is literal", "S5": "the most recent win", "S15": "most recent first"}


def outcome(name: str, *rules: str, result: str = "passed", detail: str = "") -> TestOutcome:
    return TestOutcome(name, rules, result, 0.25, detail)


def statuses(tests: List[TestOutcome], declared: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    return {rule: r.status for rule, r in rule_results(TITLES, tests, declared or {}).items()}


def test_every_registry_rule_gets_a_result_even_without_tests() -> None:
    results = rule_results(TITLES, [outcome("test_S3_a", "S3")], {})
    assert list(results) == ["S3", "S5", "S15"]
    assert results["S3"].status == PASS and results["S3"].tests == ["test_S3_a"]
    assert results["S5"].status == NOT_CHECKED and results["S5"].detail == "no test checks it"


def test_rules_left_out_by_selection_say_so() -> None:
    results = rule_results(TITLES, [outcome("test_S3_a", "S3")], {}, selected={"S3"})
    assert results["S15"].status == NOT_CHECKED and results["S15"].detail == "not selected"


def test_one_failing_test_fails_the_rule_with_its_detail() -> None:
    tests = [outcome("test_S3_a", "S3"), outcome("test_S3_b", "S3", result="failed", detail="boom")]
    result = rule_results(TITLES, tests, {})["S3"]
    assert result.status == FAIL and result.detail == "test_S3_b: boom"


def test_setup_errors_are_errors_not_passes() -> None:
    assert statuses([outcome("test_S3_a", "S3", result="error", detail="x")])["S3"] == ERROR


def test_all_skipped_is_skipped_with_the_reason_and_partial_skips_are_reported() -> None:
    tests = [outcome("test_S5_a", "S5", result="skipped", detail="needs reopen_store")]
    tests += [outcome("test_S5_b", "S5", result="skipped", detail="needs reopen_store (for S10)")]
    tests += [outcome("test_S3_a", "S3"), outcome("test_S3_b", "S3", result="skipped", detail="no threads")]
    results = rule_results(TITLES, tests, {})
    assert (results["S5"].status, results["S5"].detail) == (SKIPPED, "needs reopen_store (for S10)")
    assert results["S3"].status == PASS and "no threads" in results["S3"].detail


def test_a_multi_rule_failure_blames_only_the_rules_its_message_names() -> None:
    tests = [outcome("test_recency", "S5", "S15", result="failed", detail="S5: an older trace won")]
    found = statuses(tests)
    assert found["S5"] == FAIL and found["S15"] == NOT_CHECKED
    assert statuses([*tests, outcome("test_S15_order", "S15")])["S15"] == PASS
    unnamed = [outcome("test_recency", "S5", "S15", result="failed", detail="wrong answer")]
    assert statuses(unnamed) == {"S3": NOT_CHECKED, "S5": FAIL, "S15": FAIL}


@pytest.mark.parametrize(
    ("results", "expected", "detail"),
    [
        (["xfailed"], DECLARED, "uses LIKE"),
        (["xfailed", "xpassed", "xpassed"], DECLARED, "uses LIKE"),  # one test found the fault
        (["xpassed", "xpassed"], ERROR, "declared (uses LIKE) but every test passed: test_S3_0, test_S3_1"),
        (["passed"], ERROR, "declared (uses LIKE) but every test passed: test_S3_0"),
        (
            ["xfailed", "failed"],
            ERROR,
            "declared (uses LIKE) but test_S3_1 failed with an error that is not S3's",
        ),
        (["error"], ERROR, "declared (uses LIKE) but test_S3_0 error with an error that is not S3's"),
        (["skipped"], SKIPPED, "d"),
    ],
)
def test_declared_deviations(results: List[str], expected: str, detail: str) -> None:
    tests = [outcome(f"test_S3_{n}", "S3", result=result, detail="d") for n, result in enumerate(results)]
    found = rule_results(TITLES, tests, {"S3": "uses LIKE"})["S3"]
    assert (found.status, found.detail[: len(detail)]) == (expected, detail)


CLAUSE_TITLES = {"S3.case": "prefix is case-sensitive", "S3.wildcards": "wildcards are literal"}


def test_a_declared_clause_is_judged_alone_and_its_rule_on_the_other_tests() -> None:
    tests = [
        outcome("test_S3_case", "S3.case", result="xfailed", detail="AssertionError: folded"),
        outcome("test_S3_wild", "S3.wildcards"),
        outcome("test_S3_any", "S3"),
    ]
    declared = {"S3.case": "collation is case-insensitive"}
    rule = rule_results(TITLES, tests, declared)["S3"]
    assert (rule.status, rule.tests, rule.detail) == (
        PASS,
        ["test_S3_wild", "test_S3_any"],
        "S3.case declared, checked apart",
    )
    clauses = clause_results(CLAUSE_TITLES, tests, declared)
    assert (clauses["S3.case"].status, clauses["S3.case"].declared) == (DECLARED, True)
    assert (clauses["S3.wildcards"].status, clauses["S3.wildcards"].declared) == (PASS, False)
    report = KitReport(
        "m:S", "dev", "{unique}", 1.0, rule_results(TITLES, tests, declared), tests, [], clauses
    )
    lines = format_text(report).splitlines()
    assert lines[2].startswith("  S3.case DECLARED") and "collation is case-insensitive" in lines[2], lines
    assert report.ok and report.counts()[DECLARED] == 1 and report.counts()[PASS] == 1


def test_an_undeclared_clause_that_fails_fails_its_rule() -> None:
    tests = [outcome("test_S3_case", "S3.case", result="failed", detail="boom"), outcome("test_S3_any", "S3")]
    assert rule_results(TITLES, tests, {})["S3"].status == FAIL
    assert clause_results(CLAUSE_TITLES, tests, {})["S3.case"].status == FAIL


def test_a_declared_rule_covers_its_clauses() -> None:
    tests = [
        outcome("test_S3_case", "S3.case", result="xfailed"),
        outcome("test_S3_any", "S3", result="xpassed"),
    ]
    assert rule_results(TITLES, tests, {"S3": "LIKE"})["S3"].status == DECLARED
    clause = clause_results(CLAUSE_TITLES, tests, {"S3": "LIKE"})["S3.case"]
    assert (clause.status, clause.declared) == (DECLARED, False)


def crashed(name: str, rule: str, error: str) -> TestOutcome:
    test = outcome(name, rule, result="failed", detail=f"sqlite3.{error}")
    test.error = error
    return test


def test_rules_failing_with_the_same_error_are_named_once_at_the_top() -> None:
    error = "OperationalError: no such function: concat"
    tests = [
        crashed("test_S3_a", "S3", error),
        crashed("test_S5_a", "S5", error),
        outcome("test_S15_a", "S15"),
    ]
    report = report_with(tests)
    assert report.root_causes == [(error, ["S3", "S5"])]
    assert format_text(report).splitlines()[1] == f"2 rules fail with the same error: {error} -- S3, S5"
    assert to_json(report)["root_causes"] == [{"error": error, "rules": ["S3", "S5"]}]
    assert report_with([crashed("test_S3_a", "S3", error), outcome("test_S5_a", "S5")]).root_causes == []


class _Chain:
    """Stands in for pytest's ExceptionChainRepr: the crash of each exception in the chain."""

    def __init__(self, *messages: str) -> None:
        self.chain = [(None, _Crash(message), None) for message in messages]
        self.reprcrash = _Crash(messages[-1])


def test_the_root_error_is_the_first_exception_in_the_chain_that_is_not_a_verdict() -> None:
    chain = _Chain("sqlite3.OperationalError: no such function: concat", "AssertionError: S9: filter raised")
    assert root_error(failed_report(chain)) == "OperationalError: no such function: concat"
    assert root_error(failed_report(_Chain("AssertionError: S3: wrong"))) == ""
    timeout = "conformance.deadline.StoreCallTimeout: add did not return within 30 s"
    assert root_error(failed_report(_Chain(timeout))) == "StoreCallTimeout: add did not return within 30 s"


class _Crash:
    def __init__(self, message: str) -> None:
        self.message = message


class _Longrepr:
    """Stands in for pytest's ExceptionChainRepr: a crash message and a printable traceback."""

    def __init__(self, message: str, text: str) -> None:
        self.reprcrash = _Crash(message)
        self.text = text

    def __str__(self) -> str:
        return self.text


def failed_report(longrepr: Any) -> pytest.TestReport:
    return pytest.TestReport("m.py::T::t", ("m.py", 1, "t"), {}, "failed", longrepr, "call")


def test_failure_summary_keeps_the_assertion_and_the_falsifying_example_only() -> None:
    message = (
        "AssertionError: filter('m', 'foo') returned Foo.bar\nassert 1 == 0\n"
        "Falsifying example: test_S3_prefix(\n    self=<m.T object at 0x7f>,\n    prefix='foo',\n"
        "    n=0,  # or any other generated value\n)\n"
        "Explanation:\n    These lines were always and only run by failing examples:\n        /m.py:9\n"
    )
    summary = failure_summary(failed_report(_Longrepr(message, "traceback...")))
    assert summary.splitlines() == [
        "AssertionError: filter('m', 'foo') returned Foo.bar",
        "Falsifying example: test_S3_prefix(",
        "    prefix='foo',",
        "    n=0,",
        ")",
    ]


def test_failure_summary_reads_newer_hypothesis_failing_test_case_heading() -> None:
    message = "AssertionError: S3: wrong\nFailing test case: check(\n    prefix='x',\n)\nDraw 1 (limit): 3\n"
    summary = failure_summary(failed_report(_Longrepr(message, "traceback...")))
    assert summary.splitlines() == [
        "AssertionError: S3: wrong",
        "Falsifying example: check(",
        "    prefix='x',",
        ")",
        "Draw 1 (limit): 3",
    ]


def test_failure_summary_finds_examples_inside_exception_groups() -> None:
    text = "  | E   AssertionError: one\n  | Falsifying example: test_x(\n  |     k=1,\n  | )\n"
    summary = failure_summary(failed_report(_Longrepr("ExceptionGroup: 2 distinct failures", text)))
    assert "ExceptionGroup: 2 distinct failures" in summary
    assert "Falsifying example: test_x(" in summary and "k=1," in summary


def test_failure_summary_cuts_tracebacks_and_pytest_introspection() -> None:
    message = (
        "AssertionError: S11: 1 writer thread(s) raised:\nthread t0: Traceback (most recent call last):\n"
        '  File "w.py", line 3, in work\n    store.add(traces)\nsqlite3.ProgrammingError: wrong thread\n'
        "assert not ['thread t0: ...']\n"
    )
    summary = failure_summary(failed_report(_Longrepr(message, "traceback...")))
    assert summary.splitlines() == [
        "AssertionError: S11: 1 writer thread(s) raised:",
        "thread t0: sqlite3.ProgrammingError: wrong thread",
    ]


def test_a_failure_with_a_falsifying_example_is_shown_first_and_the_others_named() -> None:
    tests = [
        outcome("test_S3_a", "S3", result="failed", detail="AssertionError: plain"),
        outcome("test_S3_b", "S3", result="failed", detail="AssertionError: x\nFalsifying example: b(p=1)"),
    ]
    detail = rule_results(TITLES, tests, {})["S3"].detail
    assert detail.startswith("test_S3_b: AssertionError: x\nFalsifying example: b(p=1)")
    assert detail.endswith("\nalso failed: test_S3_a")
    line = format_text(report_with(tests), width=30).splitlines()[1]
    assert line.endswith(
        "(test_S3_b: AssertionError: x -- Falsifying example: b(p=1); also failed: test_S3_a)"
    ), line


def report_with(results_tests: List[TestOutcome], errors: Optional[List[str]] = None) -> KitReport:
    results = rule_results(TITLES, results_tests, {})
    return KitReport("pkg.mod:Store", "dev", "{unique}", 1.25, results, results_tests, errors or [])


def test_text_has_a_line_per_rule_and_a_parsable_last_line() -> None:
    failing = outcome(
        "test_S3_a", "S3", result="failed", detail="AssertionError: x\nFalsifying example: t(\n p=1,\n)"
    )
    report = report_with([failing, outcome("test_S5_a", "S5")])
    lines = format_text(report).splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["S3", "S5", "S15"]
    assert re.match(
        r"S3 +FAIL +qualname prefix is literal +\(test_S3_a: .*Falsifying example: t\(p=1\)\)$", lines[1]
    )
    assert lines[-2] == "1 passed, 1 failed, 0 declared, 0 skipped, 1 not checked, 0 errors in 1.2s"
    assert lines[-1] == "conformance: 1 passed, 1 failed"
    assert not report.ok


def test_run_errors_count_as_failures_in_the_last_line() -> None:
    report = report_with([outcome("test_S3_a", "S3")], errors=["collecting the kit failed"])
    text = format_text(report)
    assert "error: collecting the kit failed" in text
    assert text.splitlines()[-1] == "conformance: 1 passed, 1 failed" and not report.ok


def test_verbose_text_prints_the_full_detail_prefixed_by_the_rule() -> None:
    report = report_with([outcome("test_S5_a", "S5", result="failed", detail="line one\nline two")])
    assert "S5   | line two" in format_text(report, verbose=True).splitlines()


def test_long_details_are_cut_on_the_rule_line() -> None:
    report = report_with([outcome("test_S5_a", "S5", result="failed", detail="x" * 1000)])
    line = format_text(report, width=80).splitlines()[2]
    assert line.startswith("S5") and line.endswith("...)") and len(line) < 140


def test_json_has_every_rule_with_status_tests_and_detail() -> None:
    report = report_with([outcome("test_S3_a", "S3")])
    data = json.loads(json.dumps(to_json(report)))
    assert (data["store"], data["profile"], data["duration"], data["ok"]) == (
        "pkg.mod:Store",
        "dev",
        1.25,
        True,
    )
    assert set(data["rules"]) == set(TITLES)
    assert data["rules"]["S3"] == {
        "status": PASS,
        "title": TITLES["S3"],
        "tests": ["test_S3_a"],
        "detail": "",
    }
    assert data["tests"][0]["rules"] == ["S3"]


def test_cli_names_the_error_that_several_rules_share_once_at_the_top(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_file = tmp_path / "report.json"
    argv = ["tests.kit.probe_stores:ConcatlessStore", "--profile", "dev", "--quiet", "--rule", "S8,S13"]
    assert main([*argv, "--json", str(report_file)]) == 1
    lines = capsys.readouterr().out.splitlines()
    error = "OperationalError: no such function: concat"
    assert lines[0] == lines[1] and lines[0].startswith(
        "tracestore conformance: "
    )  # before and after the run
    assert lines[2] == f"2 rules fail with the same error: {error} -- S8, S13", lines[:3]
    data = json.loads(report_file.read_text(encoding="utf-8"))
    assert data["root_causes"] == [{"error": error, "rules": ["S8", "S13"]}]
