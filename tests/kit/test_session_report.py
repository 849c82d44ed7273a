"""Under plain pytest, a kit test class gets the CLI's per-rule table at the end, and its JSON on request."""

from __future__ import annotations

import json
import pathlib

import pytest

pytest_plugins = ("pytester",)

TWO_LINES = """
from conformance import CallTraceStoreTests
from reference_stores.memory import InMemoryStore
from tests.faulty_stores import LimitOffByOneStore


class TestMemory(CallTraceStoreTests[InMemoryStore]):
    store_class = InMemoryStore


class TestOffByOne(CallTraceStoreTests[LimitOffByOneStore]):
    store_class = LimitOffByOneStore
"""

# Two quick tests: the off-by-one store fails the first, every store passes the second.
SELECT = ["-p", "no:cacheprovider", "--tracestore-profile", "ci", "-k", "S4_limit_zero or S15_order_without"]


ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makepyfile(test_stores=TWO_LINES)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the faulty stores live in this project's tests package
    return pytester


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*SELECT, *args, timeout=600)


def test_each_kit_class_gets_its_rule_table_and_the_exit_status_is_pytests(suite: pytest.Pytester) -> None:
    result = _run(suite)
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the off-by-one store fails S4; pytest says so
    text = result.stdout.str()
    memory = text.index("tracestore conformance: test_stores.py::TestMemory")
    faulty = text.index("tracestore conformance: test_stores.py::TestOffByOne")
    memory_table, faulty_table = text[memory:faulty], text[faulty:]
    assert "\nS4   PASS" in memory_table and "\nS15  PASS" in memory_table
    assert "\nS4   FAIL" in faulty_table and "\nS15  PASS" in faulty_table
    assert (
        "\nS1   NOT CHECKED  stored traces come back  (not selected)" in faulty_table
    )  # -k: said, not hidden
    assert "conformance: 1 passed, 1 failed" in faulty_table


def test_json_is_the_clis_json_for_each_class(suite: pytest.Pytester) -> None:
    path = suite.path / "report.json"
    result = _run(suite, "--tracestore-report", "none", "--tracestore-report", f"json:{path}")
    assert "S4   FAIL" not in result.stdout.str()  # none: no table
    reports = json.loads(path.read_text(encoding="utf-8"))
    assert [r["store"] for r in reports] == ["test_stores.py::TestMemory", "test_stores.py::TestOffByOne"]
    assert reports[0]["rules"]["S4"]["status"] == "PASS" and reports[0]["ok"] is True
    assert reports[1]["rules"]["S4"]["status"] == "FAIL" and reports[1]["ok"] is False


def test_a_bad_report_destination_is_a_usage_error(suite: pytest.Pytester) -> None:
    result = _run(suite, "--tracestore-report", "xml:out.xml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--tracestore-report takes text, none or json:PATH, not 'xml:out.xml'" in result.stderr.str()
