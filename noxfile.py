"""Development sessions: tests on every Python present, typecheck, lint, per-store conformance, bench."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "typecheck", "lint"]
nox.options.error_on_missing_interpreters = False  # a missing interpreter is skipped, never a failure

PYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]
STORES = {
    "memory": "reference_stores.memory:InMemoryStore",
    "sqlite": "reference_stores.sqlite:SQLiteStore",
    "lmdb": "reference_stores.lmdb:LMDBStore",
    "postgres": "reference_stores.postgres:PostgresStore",
}
BENCHMARKS = ["bench_encoding", "bench_sqlite", "bench_lmdb", "bench_postgres", "bench_copy", "bench_upgrade"]


def _install(session: nox.Session) -> None:
    session.install("-e", ".[dev]")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole test suite on each interpreter that is installed."""
    _install(session)
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the whole tree, tests included (paths in pyproject.toml)."""
    _install(session)
    session.run("mypy", "--strict", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
@nox.parametrize("store", list(STORES))
def conformance(session: nox.Session, store: str) -> None:
    """Check one reference store with the kit's CLI, e.g. nox -s "conformance(store='lmdb')"."""
    _install(session)
    session.run("python", "-m", "conformance", STORES[store], *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Print every benchmark's figures (ratios measured in the same run); pass --quick for a smoke run."""
    _install(session)
    for name in BENCHMARKS:
        session.run("python", "-m", f"tests.benchmarks.{name}", *session.posargs)
