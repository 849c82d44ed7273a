"""``run_kit``: run the conformance kit on a store class in-process and return a per-rule ``KitReport``."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import pathlib
import tempfile
import time
import uuid
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Type, Union

import pytest

from conformance import profiles, requirements
from conformance.deadline import DEFAULT_TIMEOUT
from conformance.report import (
    KitReport,
    ProgressCallback,
    ResultCollector,
    RuleResult,
    clause_results,
    header_line,
    rule_results,
)
from conformance.rules import CLAUSES, RULES, check_rule_ids, rule_sort_key
from tracestore.loading import load_store_class

__all__ = [
    "DEFAULT_TEMPLATE",
    "KitReport",
    "RuleResult",
    "build_test_class",
    "kit_rules",
    "pending_test_class",
    "processes_by_default",
    "run_kit",
]

DEFAULT_TEMPLATE = requirements.DEFAULT_TEMPLATE
_PLUGIN = "conformance.pytest_plugin"
_PLUGIN_ENTRY_POINT = "tracestore_conformance"  # pyproject's pytest11 name; blocked so -p loads it once
_PENDING: Dict[str, Callable[[], Type[Any]]] = {}


def kit_rules() -> Dict[str, str]:
    """Rule ID -> title, for every rule in the registry ``conformance.rules``, E1-E5 then S1-S15
    (the clauses are ``conformance.rules.CLAUSES``)."""
    return {rule: RULES[rule] for rule in sorted(RULES, key=rule_sort_key)}


def run_kit(
    store_class_or_path: Union[str, Type[Any]],
    *,
    connection_string: Optional[str] = None,
    profile: str = "ci",
    declared: Optional[Mapping[str, str]] = None,
    rules: Optional[Sequence[str]] = None,
    distinct_results: Optional[bool] = None,
    ordered_results: Optional[bool] = None,
    processes: Optional[bool] = None,
    progress: Optional[ProgressCallback] = None,
    timeout: float = DEFAULT_TIMEOUT,
    started: Optional[ProgressCallback] = None,
    header: Optional[Callable[[str], None]] = None,
) -> KitReport:
    """Run the kit on a store class (or ``"pkg.mod:Class"``); see the README's conformance section.

    Stores are built with the class's own ``make_store`` from ``connection_string``, a template
    where ``{directory}`` is a fresh temp dir and ``{unique}`` a fresh identifier for each store
    (default: the class's ``example_connection_string``, else ``DEFAULT_TEMPLATE``).
    ``processes`` says whether other processes can open a store by its connection string
    (S10's reopen, the multi-process half of S11). ``distinct_results``, ``ordered_results`` and
    ``processes`` default to what the registry derives (``conformance.requirements``).
    ``rules`` restricts the run to the tests of those rule (or clause) IDs; ``declared`` maps
    rule or clause IDs to the reason the store breaks them. Every call into a store must return
    within ``timeout`` seconds. ``header`` is called with the report's first line before the
    run; ``started`` as each test starts and ``progress`` after it, with the count
    ``(k, total)``. Raises ``tracestore.StoreConfigError`` for a bad path, ``ValueError`` for
    an unknown rule or profile or a timeout that is not positive.
    """
    if isinstance(store_class_or_path, str):
        store_class, store_name = load_store_class(store_class_or_path), store_class_or_path
    else:
        store_class = store_class_or_path
        store_name = f"{store_class.__module__}:{store_class.__qualname__}"
    template = connection_string
    if template is None:
        template = getattr(store_class, "example_connection_string", None) or DEFAULT_TEMPLATE
    titles = kit_rules()
    declared = dict(declared or {})
    selected = None if rules is None else set(rules)
    check_rule_ids([*(selected or ()), *declared])
    if profile not in profiles.PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(profiles.PROFILES)}")
    if not timeout > 0:
        raise ValueError(f"the timeout must be a positive number of seconds, not {timeout!r}")
    build = functools.partial(
        build_test_class,
        store_class,
        template,
        declared,
        distinct_results,
        ordered_results,
        processes,
        timeout,
    )
    if header is not None:
        header(header_line(store_name, profile, template))
    collector = ResultCollector(selected, progress, started)
    began = time.perf_counter()
    exit_code, output = _run_pytest(build, profile, collector)
    duration = time.perf_counter() - began
    errors = list(collector.errors)
    if exit_code not in (
        pytest.ExitCode.OK,
        pytest.ExitCode.TESTS_FAILED,
        pytest.ExitCode.NO_TESTS_COLLECTED,
    ):
        errors.append(f"pytest exited with {exit_code!r}:\n{output.strip()}")
    tests = list(collector.tests.values())
    results = rule_results(titles, tests, declared, selected)
    clauses = clause_results(CLAUSES, tests, declared, selected)
    return KitReport(store_name, profile, template, duration, results, tests, errors, clauses)


def processes_by_default(store_class: Type[Any], template: str) -> bool:
    """Whether another process can open a store from ``template`` (S10, S11), unless told.

    The registry's ``other_processes`` capability (``conformance.requirements``): not for a
    class that sets ``process_local = True``, nor for a bare-name template like ``"{unique}"``.
    """
    if getattr(store_class, "process_local", False):
        return False
    return requirements.template_reaches_other_processes(template) is None


def build_test_class(
    store_class: Type[Any],
    template: str,
    declared: Mapping[str, str],
    distinct: Optional[bool] = None,
    ordered: Optional[bool] = None,
    processes: Optional[bool] = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Type[Any]:
    """The two-line ``CallTraceStoreTests`` subclass of ``store_class`` and ``template``.

    The hooks are the kit's derived ones (``conformance.checks.base.KitBase``), so the CLI and
    a user's subclass build stores one way. ``None`` leaves a capability to the registry (the
    store class's attributes); ``processes=False`` makes the class ``process_local``, and the kit
    skips S10's and S11's other processes, saying so.
    """
    from conformance.mixin import CallTraceStoreTests

    namespace: Dict[str, Any] = {
        "store_class": store_class,
        "connection_template": template,
        "declared_deviations": dict(declared),
        "call_timeout": timeout,
        "__module__": __name__,
    }
    stated = {"distinct_results": distinct, "ordered_results": ordered}
    if processes is not None:
        stated["process_local"] = not processes
    namespace.update((name, value) for name, value in stated.items() if value is not None)
    if callable(getattr(store_class, "drop_store", None)):
        namespace["cleanup_call_name"] = "drop_store"
    return type("TestConformance", (CallTraceStoreTests,), namespace)


def pending_test_class(token: str) -> Type[Any]:
    """Build the test class for the generated module of a run.

    It is built at collection time, after the kit's plugin has loaded the Hypothesis
    profile, so the mixin (imported here first) sees the chosen profile.
    """
    return _PENDING[token]()


def _run_pytest(
    build_class: Callable[[], Type[Any]], profile: str, collector: ResultCollector
) -> Tuple[int, str]:
    token = uuid.uuid4().hex[:12]
    with tempfile.TemporaryDirectory(prefix="tracestore-kit-") as tmp:
        root = pathlib.Path(tmp)
        (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        module = root / f"test_kit_{token}.py"
        module.write_text(
            f"from conformance.runner import pending_test_class\n\n"
            f"TestConformance = pending_test_class({token!r})\n",
            encoding="utf-8",
        )
        args = [str(module), "-c", str(root / "pytest.ini"), "--rootdir", tmp, "--import-mode=importlib"]
        args += ["-p", "no:cacheprovider", "-p", f"no:{_PLUGIN_ENTRY_POINT}", "-p", _PLUGIN]
        args += ["--tracestore-profile", profile, "--tracestore-report", "none"]
        args += ["-q", "--no-header", "-p", "no:randomly"]
        output = io.StringIO()
        _PENDING[token] = build_class
        previous_profile = profiles.current_name()
        addopts = os.environ.pop("PYTEST_ADDOPTS", None)  # the caller's options are not the kit's
        try:
            with contextlib.redirect_stdout(output):
                exit_code = pytest.main(args, plugins=[collector])
        finally:
            if addopts is not None:
                os.environ["PYTEST_ADDOPTS"] = addopts
            del _PENDING[token]
            profiles.select(previous_profile)  # the caller's session keeps its own profile
    return int(exit_code), output.getvalue()
