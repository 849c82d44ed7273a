"""Development sessions: tests on every Python present, typecheck, lint, per-store conformance, bench."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
from typing import List

import nox

nox.options.sessions = ["tests", "typecheck", "lint"]
nox.options.error_on_missing_interpreters = False  # a missing interpreter is skipped, never a failure

PYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]


def pyenv_bin_dirs() -> List[str]:
    """The ``bin`` folders of pyenv's interpreters, found even when pyenv is not on PATH.

    pyenv's root is ``$TRACESTORE_PYENV_ROOT``, else ``pyenv root``, else ``$PYENV_ROOT``, else
    ``~/.pyenv``. nox finds an interpreter by its name (``python3.9``) on PATH, and pyenv's
    shims name only the global version, so each version's own ``bin`` is added instead.
    """
    root = os.environ.get("TRACESTORE_PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False).stdout.strip()
    versions = pathlib.Path(root or os.environ.get("PYENV_ROOT") or "~/.pyenv").expanduser() / "versions"
    if not versions.is_dir():
        return []
    return [str(path / "bin") for path in sorted(versions.iterdir()) if (path / "bin").is_dir()]


os.environ["PATH"] = os.pathsep.join([*pyenv_bin_dirs(), os.environ.get("PATH", "")])
STORES = {
    "memory": "reference_stores.memory:InMemoryStore",
    "sqlite": "reference_stores.sqlite:SQLiteStore",
    "lmdb": "reference_stores.lmdb:LMDBStore",
    "postgres": "reference_stores.postgres:PostgresStore",
    "mysql": "reference_stores.mysql:MySQLStore",
    "redis": "reference_stores.redis:RedisStore",
}
BENCHMARKS = [
    "bench_encoding",
    "bench_sqlite",
    "bench_lmdb",
    "bench_postgres",
    "bench_mysql",
    "bench_redis",
    "bench_copy",
    "bench_upgrade",
]


def _install(session: nox.Session) -> None:
    session.install("-e", ".[dev]")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole test suite on each interpreter that is installed (pyenv's too, see ``pyenv_bin_dirs``)."""
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
