"""Declared deviations, by rule and by clause, under the CLI and under the pytest mixin.

A declared rule is DECLARED when one of its tests fails by the rule's own assertion, ERROR
when every test passes or a test crashes with another error; under pytest its passing tests
fail nothing, but a declaration whose every test passes fails the session.
"""

from __future__ import annotations

import json
import pathlib
import sys
import textwrap
from typing import Iterator, List

import pytest

from conformance import CallTraceStoreTests, profiles
from conformance.cli import main
from conformance.deadline import StoreCallTimeout
from conformance.report import DECLARED, ERROR, FAIL, PASS
from conformance.rules import CLAUSES, RULES, check_rule_ids, is_rule_failure, parent_rule

if sys.version_info >= (3, 11):
    from builtins import BaseExceptionGroup, ExceptionGroup
else:
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup

pytest_plugins = ["pytester"]

PROBES = "tests.kit.probe_stores"
MEMORY = "reference_stores.memory:InMemoryStore"
NEGATIVE_EMPTY = f"{PROBES}:NegativeLimitEmptyStore"
NEGATIVE_CRASH = f"{PROBES}:NegativeLimitCrashStore"
CASE_FOLDING = "tests.support.cli_broken_store:CaseFoldingPrefixStore"
FAST = ["--profile", "dev", "--quiet"]


def report_lines(output: str) -> List[str]:
    return [line.strip() for line in output.splitlines()]


def row(output: str, rule: str) -> str:
    return next(line for line in report_lines(output) if line.split()[:1] == [rule])


def status_of(output: str, rule: str) -> str:
    return row(output, rule).split()[1]


# -- the registry -----------------------------------------------------------------------


def test_every_clause_belongs_to_a_rule_and_is_a_known_id() -> None:
    assert CLAUSES and all(parent_rule(clause) in RULES and "." in clause for clause in CLAUSES)
    assert check_rule_ids(["S4.negative", "S4"]) == ["S4.negative", "S4"]
    with pytest.raises(ValueError, match=r"S4\.huger"):
        check_rule_ids(["S4.huger"])


def test_only_a_rule_s_own_verdict_confirms_a_deviation() -> None:
    failed = pytest.fail.Exception("S3: folded case")
    assert is_rule_failure(AssertionError("S4: 3 results, not 2")) and is_rule_failure(failed)
    assert is_rule_failure(ExceptionGroup("Hypothesis found 2 distinct failures", [AssertionError()] * 2))
    assert is_rule_failure(BaseExceptionGroup("2 distinct failures", [AssertionError(), failed]))
    assert not is_rule_failure(TypeError("limit must be an unsigned integer"))
    assert not is_rule_failure(ExceptionGroup("two failures", [AssertionError(), TypeError("crash")]))
    assert not is_rule_failure(StoreCallTimeout("add did not return within 30 s"))


# -- the CLI -------------------------------------------------------------------------------


def test_a_store_declares_one_clause_and_is_checked_on_the_rest_of_its_rule(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_file = tmp_path / "report.json"
    argv = [NEGATIVE_EMPTY, *FAST, "--rule", "S4", "--declare", "S4.negative=answers [] for -1"]
    assert main([*argv, "--json", str(report_file)]) == 0
    out = capsys.readouterr().out
    assert status_of(out, "S4") == PASS and "S4.negative declared, checked apart" in row(out, "S4")
    assert status_of(out, "S4.negative") == DECLARED and "answers [] for -1" in row(out, "S4.negative")
    data = json.loads(report_file.read_text(encoding="utf-8"))
    assert data["rules"]["S4"]["status"] == PASS
    negative = data["clauses"]["S4.negative"]
    assert (negative["status"], negative["declared"]) == (DECLARED, True)
    assert negative["tests"] == ["test_S4_negative_limit_raises_value_error"]
    default = data["clauses"]["S4.default"]
    assert (default["status"], default["declared"]) == (PASS, False)


def test_a_store_that_folds_case_declares_s3_case_and_is_checked_on_the_rest_of_s3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [CASE_FOLDING, *FAST, "--rule", "S3", "--declare", "S3.case=folds case, like SQL LIKE"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert status_of(out, "S3") == PASS and status_of(out, "S3.case") == DECLARED


def test_a_store_that_folds_case_is_not_excused_by_declaring_s3_wildcards(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([CASE_FOLDING, *FAST, "--rule", "S3", "--declare", "S3.wildcards=LIKE"]) == 1
    out = capsys.readouterr().out
    assert status_of(out, "S3") == FAIL and "str.startswith" in row(out, "S3")


def test_undeclared_the_clause_fails_its_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([NEGATIVE_EMPTY, *FAST, "--rule", "S4.negative"]) == 1
    out = capsys.readouterr().out
    assert status_of(out, "S4") == FAIL and "test_S4_negative_limit_raises_value_error" in row(out, "S4")


def test_a_declared_rule_with_one_failing_test_and_others_passing_is_declared(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([NEGATIVE_EMPTY, *FAST, "--rule", "S4", "--declare", "S4=answers [] for -1"]) == 0
    assert status_of(capsys.readouterr().out, "S4") == DECLARED


def test_a_declared_clause_whose_tests_all_pass_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([MEMORY, *FAST, "--rule", "S4", "--declare", "S4.negative=not really"]) == 1
    out = capsys.readouterr().out
    assert status_of(out, "S4.negative") == ERROR and "every test passed" in row(out, "S4.negative")
    assert status_of(out, "S4") == PASS


def test_a_crash_unrelated_to_the_rule_does_not_confirm_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([NEGATIVE_CRASH, *FAST, "--rule", "S4.negative", "--declare", "S4.negative=crashes"]) == 1
    line = row(capsys.readouterr().out, "S4.negative")
    assert line.split()[1] == ERROR and "not S4.negative's assertion" in line and "TypeError" in line, line


# -- the mixin -----------------------------------------------------------------------------


@pytest.fixture
def kit_profile() -> Iterator[None]:
    """pytester runs the kit in this process; the caller's profile is restored afterwards."""
    before = profiles.current_name()
    yield
    profiles.select(before)


#: The kit's tests that ``-k S4`` selects; only ``test_S4_negative_limit_raises_value_error`` fails
#: for a store whose one fault is answering [] to a negative limit.
S4_TESTS = sum(1 for name in dir(CallTraceStoreTests) if name.startswith("test_") and "S4" in name)


def mixin_run(pytester: pytest.Pytester, store: str, declared: str, keyword: str) -> pytest.RunResult:
    module, _, name = store.partition(":")
    pytester.makepyfile(
        test_store=textwrap.dedent(
            f"""
            from pathlib import Path

            from conformance import CallTraceStoreTests
            from {module} import {name}


            class TestStore(CallTraceStoreTests[{name}]):
                ordered_results = True
                declared_deviations = {declared}

                def make_store(self, directory: Path) -> {name}:
                    return {name}.make_store(":memory:")
            """
        )
    )
    return pytester.runpytest_inprocess("-k", keyword, "--tracestore-profile", "dev", "-p", "no:randomly")


@pytest.mark.usefixtures("kit_profile")
def test_mixin_a_declared_clause_that_fails_keeps_the_suite_green(pytester: pytest.Pytester) -> None:
    result = mixin_run(pytester, NEGATIVE_EMPTY, "{'S4.negative': 'answers [] for -1'}", "S4")
    result.assert_outcomes(passed=S4_TESTS - 1, xfailed=1)
    assert result.ret == pytest.ExitCode.OK


@pytest.mark.usefixtures("kit_profile")
def test_mixin_a_declared_rule_whose_other_tests_pass_keeps_the_suite_green(
    pytester: pytest.Pytester,
) -> None:
    result = mixin_run(pytester, NEGATIVE_EMPTY, "{'S4': 'answers [] for -1'}", "S4")
    result.assert_outcomes(xfailed=1, xpassed=S4_TESTS - 1)
    assert result.ret == pytest.ExitCode.OK


@pytest.mark.usefixtures("kit_profile")
def test_mixin_a_declared_rule_that_fully_passes_fails_the_suite(pytester: pytest.Pytester) -> None:
    result = mixin_run(pytester, MEMORY, "{'S4.negative': 'not really'}", "S4_negative")
    result.assert_outcomes(xpassed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*declares a deviation from S4.negative, but every test of S4.negative passed*"]
    )


@pytest.mark.usefixtures("kit_profile")
def test_mixin_a_crash_is_a_failure_not_a_confirmation(pytester: pytest.Pytester) -> None:
    result = mixin_run(pytester, NEGATIVE_CRASH, "{'S4.negative': 'crashes'}", "S4_negative")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*TypeError: limit must be an unsigned integer*"])


@pytest.mark.usefixtures("kit_profile")
def test_mixin_an_unknown_clause_is_an_error(pytester: pytest.Pytester) -> None:
    result = mixin_run(pytester, MEMORY, "{'S4.huger': 'typo'}", "S4_negative")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*declared_deviations names unknown rule(s)*S4.huger*"])
