"""MonkeyType's own CLI over our stores gives exactly the output it gives over its own store.

Each *writer* runs ``monkeytype run`` once over the sample program
(tests/support/sample_program, copied to a temp dir): MonkeyType's default store
(``monkeytype``, the baseline), MonkeyType's default store read back by our SQLiteStore
(``monkeytype-file-sqlite``), and each reference store through
``tracestore.monkeytype_config`` (``sqlite``, also read back by MonkeyType's default
config through ``MT_DB_PATH``; ``lmdb``; ``postgres``; ``mysql``; ``redis``). Those two SQLite
cases are the file-compatibility checks, one each way. Each *reader* of a writer's data then runs
``monkeytype stub`` and ``list-modules``; then ``legacy.retired`` is deleted from the
code and it runs ``stub`` again (1 trace failed to decode, reported, not fatal) and,
for the first reader, ``apply``. Every output must equal the baseline's; only the
member order of a ``Union[...]``, which MonkeyType itself does not keep from one run to
the next, is normalized (``canonical``).

A reference store that cannot be imported fails here, naming the import error; the
in-memory store is left out (``IN_PROCESS_ONLY`` says why, and a test checks that every
other alias is a writer); PostgreSQL runs in a fresh schema that is dropped afterwards,
Redis under a fresh key prefix whose keys are deleted afterwards
(skipped with a reason when no server answers, failed under CI).
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
from typing import Dict, Iterator, List, NamedTuple, Optional, Tuple

import pytest

from tests.support import mysql
from tests.support.postgres import SchemaFactory, require_server
from tests.support.redis import PrefixFactory
from tests.support.redis import require_server as require_redis
from tracestore import StoreConfigError
from tracestore.loading import STORE_ALIASES, load_store_class

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "support" / "sample_program"
SHAPES, LEGACY = "sample_program.shapes", "sample_program.legacy"
CONFIG = "tracestore.monkeytype_config:CONFIG"
RETIRED_MARKER = "# RETIRED"
KEPT_ANNOTATED, KEPT_BARE = "def kept(name: str) -> str:", "def kept(name):"
_CLEARED_VARS = ("MT_DB_PATH", "TRACESTORE_STORE", "TRACESTORE_CONNECTION", "MONKEYTYPE_TRACE_MODULES")

IN_PROCESS_ONLY = {
    "memory": "InMemoryStore keeps traces inside one process; monkeytype run and monkeytype stub are "
    "separate processes, so there is nothing to share (the adapter over it is tested in test_interop_adapter)"
}


class Output(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


_FLAT_UNION = re.compile(r"Union\[([^\[\]]+)\]")


def canonical(output: Output) -> Output:
    """``output`` with the members of every flat ``Union[...]`` in sorted order.

    MonkeyType builds a union from a set of types, which hash by address, so the order of
    its members changes from one run to the next: six ``monkeytype stub`` runs over one
    ``monkeytype.sqlite3`` print both ``Union[int, str]`` and ``Union[str, int]``. That
    order is the one thing normalized before comparing.
    """

    def sort_members(match: re.Match[str]) -> str:
        return "Union[" + ", ".join(sorted(match.group(1).split(", "))) + "]"

    return output._replace(stdout=_FLAT_UNION.sub(sort_members, output.stdout))


class Backend(NamedTuple):
    """How one MonkeyType process is pointed at a store: CLI arguments and environment."""

    label: str
    args: Tuple[str, ...]
    env: Dict[str, str]


class ReaderOutcome(NamedTuple):
    stub: Output
    list_modules: Output
    stub_after_deletion: Output
    apply_after_deletion: Optional[Output]  # only for a writer's first reader (apply edits the code)


# -- running MonkeyType ----------------------------------------------------------


def monkeytype_backend(db_path: pathlib.Path) -> Backend:
    return Backend("monkeytype default store", (), {"MT_DB_PATH": str(db_path)})


def tracestore_backend(store: str, connection: str) -> Backend:
    env = {"TRACESTORE_STORE": store, "TRACESTORE_CONNECTION": connection}
    return Backend(f"tracestore {store}", ("-c", CONFIG), env)


def sample_copy(directory: pathlib.Path) -> pathlib.Path:
    """A fresh copy of the sample package under ``directory/pkgs``; returns ``pkgs``."""
    packages = directory / "pkgs"
    shutil.copytree(SAMPLE, packages / "sample_program", ignore=shutil.ignore_patterns("__pycache__"))
    return packages


def monkeytype(
    backend: Backend, packages: pathlib.Path, cwd: pathlib.Path, *command: str, check: bool = True
) -> Output:
    """Run ``python -m monkeytype [backend args] COMMAND...`` as a user would."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED_VARS}
    env.update(backend.env)
    env["PYTHONPATH"] = os.pathsep.join([str(packages), str(ROOT)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # the tests edit sample code; never run a stale .pyc
    argv = [sys.executable, "-m", "monkeytype", *backend.args, *command]
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    out = Output(done.returncode, done.stdout, done.stderr)
    if check:
        assert out.returncode == 0, f"{backend.label}: {' '.join(command)} failed:\n{out.stderr}"
    return out


def delete_retired_function(packages: pathlib.Path) -> None:
    """Cut legacy.py at the RETIRED marker, and drop kept()'s annotations so apply has work to do."""
    path = packages / "sample_program" / "legacy.py"
    text = path.read_text()
    assert RETIRED_MARKER in text and KEPT_ANNOTATED in text
    path.write_text(text[: text.index(RETIRED_MARKER)].replace(KEPT_ANNOTATED, KEPT_BARE))


def trace_and_read(
    directory: pathlib.Path, writer: Backend, readers: List[Backend]
) -> Dict[str, ReaderOutcome]:
    """Trace the sample with ``writer``, then collect every reader's outputs (see the module docstring)."""
    packages = sample_copy(directory)
    monkeytype(writer, packages, directory, "run", "-m", "sample_program.driver")
    before = {
        r.label: (
            monkeytype(r, packages, directory, "stub", "--ignore-existing-annotations", SHAPES),
            monkeytype(r, packages, directory, "list-modules"),
        )
        for r in readers
    }
    delete_retired_function(packages)
    outcomes = {}
    for index, reader in enumerate(readers):
        stub, listed = before[reader.label]
        after = monkeytype(reader, packages, directory, "stub", "--ignore-existing-annotations", LEGACY)
        applied = None
        if index == 0:
            applied = monkeytype(
                reader, packages, directory, "apply", "--ignore-existing-annotations", LEGACY
            )
        outcomes[reader.label] = ReaderOutcome(stub, listed, after, applied)
    return outcomes


# -- the writers -------------------------------------------------------------------

WRITERS = [
    "monkeytype",
    "monkeytype-file-sqlite",
    "sqlite",
    "lmdb",
    "postgres",
    "mysql",
    "redis",
]


class WriterRun(NamedTuple):
    outcomes: Dict[str, ReaderOutcome]
    baseline_reader: str  # the reader label whose outputs are compared
    store_path: Optional[pathlib.Path]


class WriterRuns:
    """Each writer's run, made on first use (an error, or a skip, is remembered too)."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.schemas = SchemaFactory("e2e")
        self.server_used = False
        self.mysql_tables: Optional[mysql.TableFactory] = None
        self.prefixes = PrefixFactory("e2e")
        self.redis_used = False
        self.made: Dict[str, WriterRun] = {}
        self.errors: Dict[str, BaseException] = {}

    def __getitem__(self, writer: str) -> WriterRun:
        if writer in self.errors:
            error = self.errors[writer]
            if isinstance(error, Exception):  # reported in full by the first test that met it
                pytest.fail(f"the {writer} run failed: {type(error).__name__}: {error}", pytrace=False)
            raise error  # a skip
        if writer not in self.made:
            try:
                self.made[writer] = self._run(writer)
            except StoreConfigError as exc:
                self.errors[writer] = exc
                pytest.fail(f"the {writer} store cannot be used: {exc}", pytrace=False)
            except BaseException as exc:
                self.errors[writer] = exc
                raise
        return self.made[writer]

    def _run(self, writer: str) -> WriterRun:
        directory = self.factory.mktemp(f"e2e_{writer}")
        if writer == "monkeytype":
            mt = monkeytype_backend(directory / "monkeytype.sqlite3")
            return WriterRun(trace_and_read(directory, mt, [mt]), mt.label, None)
        load_store_class(STORE_ALIASES[writer.replace("monkeytype-file-", "")])  # fails here, by name
        if writer == "monkeytype-file-sqlite":
            # our store reads MonkeyType's file first; then MonkeyType reads it again after that
            path = directory / "monkeytype.sqlite3"
            mt, ours = monkeytype_backend(path), tracestore_backend("sqlite", str(path))
            return WriterRun(trace_and_read(directory, mt, [ours, mt]), ours.label, path)
        if writer == "sqlite":
            path = directory / "traces.sqlite3"
            ours, mt = tracestore_backend("sqlite", str(path)), monkeytype_backend(path)
            return WriterRun(trace_and_read(directory, ours, [ours, mt]), ours.label, path)
        if writer == "lmdb":
            backend = tracestore_backend("lmdb", str(directory / "traces.lmdb"))
            return WriterRun(trace_and_read(directory, backend, [backend]), backend.label, None)
        if writer == "postgres":
            require_server()
            self.server_used = True
            backend = tracestore_backend("postgres", self.schemas.connection_string())
            return WriterRun(trace_and_read(directory, backend, [backend]), backend.label, None)
        if writer == "mysql":
            mysql.require_server()
            self.mysql_tables = mysql.TableFactory("e2e")
            backend = tracestore_backend("mysql", self.mysql_tables.connection_string())
            return WriterRun(trace_and_read(directory, backend, [backend]), backend.label, None)
        if writer == "redis":
            require_redis()
            self.redis_used = True
            backend = tracestore_backend("redis", self.prefixes.connection_string())
            return WriterRun(trace_and_read(directory, backend, [backend]), backend.label, None)
        raise AssertionError(f"no such writer: {writer}")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WriterRuns]:
    """The writers' runs, shared by this module's tests; server schemas and keys are dropped afterwards."""
    made = WriterRuns(tmp_path_factory)
    yield made
    if made.server_used:
        made.schemas.drop_all()
    if made.mysql_tables is not None:
        made.mysql_tables.drop_all()
    if made.redis_used:
        made.prefixes.drop_all()


def baseline(runs: WriterRuns) -> ReaderOutcome:
    run = runs["monkeytype"]
    return run.outcomes[run.baseline_reader]


def readers_of(runs: WriterRuns, writer: str) -> Dict[str, ReaderOutcome]:
    """Every reader's outcome on ``writer``'s store, but never the baseline's own (no self-comparison)."""
    found = {
        label: outcome for label, outcome in runs[writer].outcomes.items() if outcome is not baseline(runs)
    }
    assert found, f"the {writer} run has no reader to compare with MonkeyType's own"
    return found


COMPARED_WRITERS = [writer for writer in WRITERS if writer != "monkeytype"]
"""The writers whose readers are compared with MonkeyType's own run (its run is the baseline)."""


# -- the tests -----------------------------------------------------------------------


def test_every_reference_store_is_a_writer() -> None:
    """A store alias added later cannot go untested here by accident."""
    assert set(STORE_ALIASES) - set(IN_PROCESS_ONLY) <= set(WRITERS)


def test_baseline_stub_has_every_function_shape(runs: WriterRuns) -> None:
    """MonkeyType's own store sees every shape of the sample, so the comparisons below are not vacuous."""
    stub = canonical(baseline(runs).stub).stdout
    for expected in (
        "def countdown(start: int) -> Generator[int, None, str]: ...",
        "def walk(points: List[Point]) -> Iterator[Point]: ...",
        "def distance(a: Point, b: Point) -> float: ...",
        "def label(value: Union[int, str]) -> str: ...",
        "def lookup(table: Dict[str, List[int]], key: str) -> Optional[List[int]]: ...",
        "    def scaled(self, factor: int) -> Point: ...",
        "    @property\n    def norm(self) -> float: ...",
        "    @classmethod\n    def origin(cls) -> Point: ...",
        "    @staticmethod\n    def parse(text: str) -> ",  # Optional[Point]; MonkeyType on 3.13 sees no None
        "    def describe(self, verbose: bool) -> str: ...",
        "    def width(self, scale: float) -> float: ...",
    ):
        assert expected in stub
    assert sorted(baseline(runs).list_modules.stdout.split()) == [LEGACY, SHAPES]


@pytest.mark.parametrize("writer", COMPARED_WRITERS)
def test_stub_is_identical_to_monkeytypes_own_store(runs: WriterRuns, writer: str) -> None:
    expected = canonical(baseline(runs).stub)
    for label, outcome in readers_of(runs, writer).items():
        assert canonical(outcome.stub) == expected, label


@pytest.mark.parametrize("writer", COMPARED_WRITERS)
def test_list_modules_is_identical_to_monkeytypes_own_store(runs: WriterRuns, writer: str) -> None:
    expected = sorted(baseline(runs).list_modules.stdout.splitlines())
    for label, outcome in readers_of(runs, writer).items():
        assert sorted(outcome.list_modules.stdout.splitlines()) == expected, label


@pytest.mark.parametrize("writer", COMPARED_WRITERS)
def test_deleted_function_is_reported_not_fatal(runs: WriterRuns, writer: str) -> None:
    expected = baseline(runs).stub_after_deletion
    assert "1 traces failed to decode" in expected.stderr
    assert "def kept(name: str) -> str: ..." in expected.stdout
    assert "retired" not in expected.stdout
    for label, outcome in readers_of(runs, writer).items():
        assert outcome.stub_after_deletion == expected, label


@pytest.mark.parametrize("writer", COMPARED_WRITERS)
def test_apply_is_identical_to_monkeytypes_own_store(runs: WriterRuns, writer: str) -> None:
    expected = baseline(runs).apply_after_deletion
    assert expected is not None and KEPT_ANNOTATED in expected.stdout
    applied = [o.apply_after_deletion for o in readers_of(runs, writer).values() if o.apply_after_deletion]
    assert applied == [expected]


def test_monkeytype_reads_a_file_our_sqlite_store_wrote(runs: WriterRuns) -> None:
    """File compatibility: MonkeyType's default config (MT_DB_PATH) reads what our SQLiteStore wrote."""
    outcome = readers_of(runs, "sqlite")[monkeytype_backend(pathlib.Path()).label]
    assert canonical(outcome.stub) == canonical(baseline(runs).stub)
    assert outcome.stub_after_deletion == baseline(runs).stub_after_deletion


def test_our_sqlite_store_reads_a_file_monkeytype_wrote(runs: WriterRuns) -> None:
    """File compatibility: our SQLiteStore reads the monkeytype.sqlite3 that `monkeytype run` wrote."""
    outcome = readers_of(runs, "monkeytype-file-sqlite")[tracestore_backend("sqlite", "").label]
    assert canonical(outcome.stub) == canonical(baseline(runs).stub)
    assert outcome.stub_after_deletion == baseline(runs).stub_after_deletion


def test_config_module_found_by_monkeytypes_default_lookup(runs: WriterRuns, tmp_path: pathlib.Path) -> None:
    """A one-line monkeytype_config.py in the working directory is all a user needs."""
    path = runs["sqlite"].store_path
    assert path is not None
    (tmp_path / "monkeytype_config.py").write_text("from tracestore.monkeytype_config import CONFIG\n")
    packages = sample_copy(tmp_path)
    env = {"TRACESTORE_STORE": "sqlite", "TRACESTORE_CONNECTION": str(path)}
    listed = monkeytype(Backend("monkeytype_config.py", (), env), packages, tmp_path, "list-modules")
    assert sorted(listed.stdout.split()) == sorted(baseline(runs).list_modules.stdout.split())
    assert not (tmp_path / "monkeytype.sqlite3").exists()  # MonkeyType's default store was not used
