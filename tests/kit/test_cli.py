"""The command-line runner end to end: in-process ``main(argv)`` and one subprocess run.

Each run uses the dev profile, seeded (``TRACESTORE_SEED``) so its verdict is the same on
every run, and a ``--rule`` restriction so it takes a few seconds.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
from typing import Any, ClassVar, Iterator, List

import pytest

from conformance import profiles, requirements
from conformance.cli import main
from conformance.report import DECLARED, ERROR, FAIL, NOT_CHECKED, PASS
from conformance.runner import build_test_class, kit_rules, processes_by_default, run_kit

ROOT = pathlib.Path(__file__).resolve().parents[2]
MEMORY = "reference_stores.memory:InMemoryStore"
BROKEN = "tests.support.cli_broken_store:CaseFoldingPrefixStore"
FAST = ["--profile", "dev", "--quiet"]
SEED = "20261203"


@pytest.fixture(autouse=True)
def _seeded(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every kit run of these tests draws from one seed (and none is left behind)."""
    monkeypatch.setenv(profiles.SEED_VAR, SEED)
    yield
    profiles.forget_seed()


def rule_line(output: str, rule: str) -> str:
    return next(line for line in output.splitlines() if line.split()[:1] == [rule])


def test_a_correct_store_passes_exits_0_and_writes_json(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report_file = tmp_path / "report.json"
    assert main([MEMORY, *FAST, "--rule", "S1", "--rule", "S3,S4", "--json", str(report_file)]) == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r"conformance: \d+ passed, 0 failed", out.splitlines()[-1])
    data = json.loads(report_file.read_text(encoding="utf-8"))
    assert (data["store"], data["profile"], data["ok"]) == (MEMORY, "dev", True)
    assert list(data["rules"]) == list(kit_rules())
    assert all(data["rules"][rule]["status"] == PASS for rule in ("S1", "S3", "S4"))
    assert data["rules"]["S9"] == {
        "status": NOT_CHECKED,
        "title": kit_rules()["S9"],
        "tests": [],
        "detail": "not selected",
    }


def test_a_broken_store_fails_its_rule_with_a_falsifying_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([BROKEN, *FAST, "--rule", "S3"]) == 1
    out = capsys.readouterr().out
    line = rule_line(out, "S3")
    assert line.split()[1] == FAIL and "Falsifying example" in line, line
    assert out.splitlines()[-1].endswith(" failed") and not out.splitlines()[-1].endswith(" 0 failed")


def test_the_module_entry_point_in_a_subprocess_shows_progress_and_fails() -> None:
    command = [sys.executable, "-m", "conformance", BROKEN, "--profile", "dev", "--rule", "S3"]
    env = {**os.environ, profiles.SEED_VAR: SEED}
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert rule_line(result.stdout, "S3").split()[1] == FAIL
    assert re.search(r"^\[1/\d+\] S3\S* test_S3_\w+.* \w+ \d+\.\d\ds$", result.stderr, re.MULTILINE), (
        result.stderr
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("no_such_package.stores:Store", "module 'no_such_package' not found"),
        ("reference_stores.memory:NoSuchStore", "has no attribute 'NoSuchStore'"),
        ("reference_stores.memory:check_limit", "it is a function, not a class"),
        ("tracestore:CallTrace", "has no make_store, add, filter"),
        ("reference_stores.memory.InMemoryStore", "expected pkg.module:StoreClass"),
    ],
)
def test_a_bad_import_path_exits_2_naming_what_failed(
    path: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([path, *FAST]) == 2
    err = capsys.readouterr().err
    assert message in err and path in err, err


def test_unknown_rules_and_malformed_declarations_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([MEMORY, *FAST, "--rule", "S99"]) == 2
    err = capsys.readouterr().err
    assert "unknown rule ID" in err and "S99" in err, err
    with pytest.raises(SystemExit) as exit_info:
        main([MEMORY, *FAST, "--declare", "S3"])
    assert exit_info.value.code == 2
    assert "--declare needs RULE=REASON" in capsys.readouterr().err


def test_a_declared_deviation_that_fails_is_reported_declared(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([BROKEN, *FAST, "--rule", "S3", "--declare", "S3=folds case, like SQL LIKE"]) == 0
    line = rule_line(capsys.readouterr().out, "S3")
    assert line.split()[1] == DECLARED and "folds case, like SQL LIKE" in line


def test_a_declared_deviation_that_passes_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([MEMORY, *FAST, "--rule", "S3", "--declare", "S3=not really broken"]) == 1
    line = rule_line(capsys.readouterr().out, "S3")
    assert line.split()[1] == ERROR and "not really broken" in line


class _RecordingStore:
    """Records the connection strings it is opened with."""

    opened: ClassVar[List[str]] = []

    @classmethod
    def make_store(cls, connection_string: str) -> _RecordingStore:
        cls.opened.append(connection_string)
        return cls()


def test_the_template_is_fresh_per_store_and_the_same_on_reopen(tmp_path: pathlib.Path) -> None:
    test_class = build_test_class(_RecordingStore, "{directory}/db?schema=ts_{unique}", {}, True, False)
    tests: Any = test_class()
    first, second = tmp_path / "one", tmp_path / "two"
    store = tests.make_store(first)
    tests.make_store(second)
    tests.reopen_store(store, first)
    one, two, reopened = _RecordingStore.opened[-3:]
    assert re.fullmatch(re.escape(f"{first}/db?schema=ts_") + r"[0-9a-f]{12}", one)
    assert two.startswith(f"{second}/db?schema=ts_") and two[-12:] != one[-12:]
    assert reopened == one == tests.connection_string(first)


class _ProcessLocalStore(_RecordingStore):
    process_local: ClassVar[bool] = True


@pytest.mark.parametrize(
    ("store_class", "template", "expected"),
    [
        (_RecordingStore, "{unique}", False),
        (_RecordingStore, "mem-{unique}.x", False),
        (_RecordingStore, "{directory}/traces.sqlite3", True),
        (_RecordingStore, "postgresql://127.0.0.1:5432/test?options=-csearch_path%3Dts_{unique}", True),
        (_ProcessLocalStore, "{directory}/store", False),
    ],
)
def test_writer_processes_are_used_unless_the_store_lives_in_this_process(
    store_class: Any, template: str, expected: bool
) -> None:
    assert processes_by_default(store_class, template) is expected


def test_without_processes_the_kit_class_is_process_local() -> None:
    template = "{directory}/traces.sqlite3"
    with_processes = build_test_class(_RecordingStore, template, {}, True, False, processes=True)
    without = build_test_class(_RecordingStore, template, {}, True, False, processes=False)
    assert requirements.missing(with_processes(), "other_processes") is None
    why = requirements.missing(without(), "other_processes")
    assert why is not None and "is process-local (process_local = True)" in why
    # A process-local store's reopen in this process would check nothing durable: S10 says so.
    why_not_reopen = requirements.missing(without(), "reopen")
    assert why_not_reopen is not None and "is process-local (process_local = True)" in why_not_reopen
    assert requirements.missing(with_processes(), "reopen") is None


def test_run_kit_takes_a_class_and_reports_every_rule() -> None:
    report = run_kit(
        sys.modules["reference_stores.memory"].InMemoryStore, profile="dev", rules=["S4"], progress=None
    )
    assert report.store == MEMORY and report.ok and report.results["S4"].status == PASS
    assert list(report.results) == list(kit_rules())
    assert report.tests and all(t.duration >= 0 for t in report.tests) and report.duration > 0
