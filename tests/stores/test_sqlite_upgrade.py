"""``python -m tracestore upgrade``: compact (no free pages left) and crash-safe under SIGKILL.

The kill test runs the upgrade of a MonkeyType file in a child process that prints each
SQL statement as SQLite starts it, and kills it with SIGKILL at several of them (the move
of the rows, the drop of MonkeyType's table, the fold into our tables, the commit, the
VACUUM, the switch to WAL).  After each kill the file is opened as its next user
would open it (SQLite rolls back a hot journal), and must be whole: ``integrity_check``
ok, and either MonkeyType's table exactly as it was, or the upgraded schema holding every
distinct row in order.  A kill after the upgrade committed but before ``VACUUM`` finished
leaves the upgraded file with free pages; the next ``upgrade`` compacts it.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from typing import Any, List, Tuple

from reference_stores.sqlite import MonkeyTypeFileStore, SQLiteStore
from reference_stores.sqlite.schema import CURRENT, MONKEYTYPE, Names, classify
from tests.support.workload import distinct_traces, production_workload
from tracestore import serialize_traces

ROOT = pathlib.Path(__file__).resolve().parents[2]
TABLE = "monkeytype_call_traces"
Row = Tuple[Any, ...]


def monkeytype_file(path: pathlib.Path, distinct: int, repeats: int) -> None:
    """A MonkeyType-format file: ``distinct`` traces, then ``repeats`` re-adds of a workload."""
    store = MonkeyTypeFileStore.make_store(str(path))
    store.add_rows(serialize_traces(distinct_traces(distinct)))
    store.add_rows(serialize_traces(production_workload(repeats)))
    store.close()


def plain_table(path: pathlib.Path) -> List[Row]:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute(f"SELECT rowid, * FROM {TABLE} ORDER BY rowid").fetchall()
    finally:
        conn.close()


def upgrade_command(path: pathlib.Path) -> List[str]:
    return [sys.executable, "-m", "tracestore", "upgrade", str(path)]


def child_env() -> dict[str, str]:
    return dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )


def state_after_recovery(path: pathlib.Path) -> Tuple[str, int]:
    """Open the file as its next user does (rolling back a hot journal): its layout and free pages."""
    conn = sqlite3.connect(str(path))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.execute("BEGIN")
        layout = classify(conn, Names.for_table(TABLE))
        conn.execute("COMMIT")
        (free,) = conn.execute("PRAGMA freelist_count").fetchone()
        return layout, int(free)
    finally:
        conn.close()


def test_upgrade_command_compacts_and_keeps_every_row(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "monkeytype.sqlite3"
    monkeytype_file(path, 3000, 6000)
    expected = [row.as_tuple() for row in MonkeyTypeFileStore.make_store(str(path)).iter_rows()]
    done = subprocess.run(upgrade_command(path), capture_output=True, text=True, env=child_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    assert "upgraded from MonkeyType's table" in done.stderr
    assert state_after_recovery(path) == (CURRENT, 0)
    assert [row.as_tuple() for row in SQLiteStore.make_store(str(path)).iter_rows()] == expected
    again = subprocess.run(
        upgrade_command(path), capture_output=True, text=True, env=child_env(), timeout=300
    )
    assert again.returncode == 0 and "already current" in again.stderr, again.stderr


# A child that upgrades ``argv[1]``, prints each SQL statement as SQLite starts it, and waits for a
# line on stdin before running it: the parent lets it go statement by statement, so a kill always
# lands inside the upgrade (a statement that ends before the kill leaves the child at the next one).
_TRACED_UPGRADE = """
import sys
from reference_stores.sqlite import SQLiteStore
def step(sql):
    print(" ".join(sql.split())[:60], flush=True)
    sys.stdin.readline()
store = SQLiteStore.make_store(sys.argv[1])
store._conn.set_trace_callback(step)
store.upgrade()
print("DONE", flush=True)
"""

# (statement prefix, seconds after it starts): the kill points, from the move of the rows to WAL.
KILL_POINTS = [
    ("BEGIN IMMEDIATE", 0.0),
    ('INSERT INTO "monkeytype_call_traces__ts_incoming"', 0.2),
    ("DROP TABLE", 0.0),
    ("SELECT created_at, module", 0.3),  # folding the rows into our tables
    ('INSERT INTO "monkeytype_call_traces__ts_traces"', 0.0),
    ("COMMIT", 0.0),
    ("VACUUM", 0.05),
    ("VACUUM", 0.4),
    ("PRAGMA journal_mode=WAL", 0.0),
]


def kill_at(path: pathlib.Path, trigger: str, delay: float) -> str:
    """Run the traced upgrade and SIGKILL it ``delay`` s after ``trigger`` starts; say what happened."""
    child = subprocess.Popen(
        [sys.executable, "-c", _TRACED_UPGRADE, str(path)],
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    seen = "the end"
    for line in child.stdout:
        if line.startswith("DONE"):
            break
        child.stdin.write("go\n")  # run this statement
        child.stdin.flush()
        if line.startswith(trigger):
            seen = line.strip()
            time.sleep(delay)
            child.send_signal(signal.SIGKILL)
            break
    child.stdout.close()
    child.stdin.close()
    code = child.wait(timeout=120)
    return f"killed {delay:.2f} s into {seen!r}" if code == -signal.SIGKILL else f"not killed (exit {code})"


def test_sigkill_during_upgrade_leaves_the_old_file_or_the_new_one_whole(tmp_path: pathlib.Path) -> None:
    template = tmp_path / "template.sqlite3"
    monkeytype_file(template, 40_000, 40_000)
    original = plain_table(template)
    expected = [row.as_tuple() for row in MonkeyTypeFileStore.make_store(str(template)).iter_rows()]
    outcomes = []
    for trigger, delay in KILL_POINTS:
        path = tmp_path / "killed.sqlite3"
        shutil.copyfile(template, path)
        what = kill_at(path, trigger, delay)
        assert what.startswith("killed"), what
        layout, free = state_after_recovery(path)
        if layout == MONKEYTYPE:
            assert plain_table(path) == original  # the old file, every row in place
            outcomes.append(f"{what}: the old file, whole")
        else:
            assert layout == CURRENT
            assert [
                row.as_tuple() for row in SQLiteStore.make_store(f"{path}?mode=ro").iter_rows()
            ] == expected
            outcomes.append(f"{what}: the new file, whole" + (f", {free} free pages" if free else ""))
            if free:  # killed before VACUUM finished: the next upgrade compacts it
                subprocess.run(
                    upgrade_command(path), check=True, capture_output=True, env=child_env(), timeout=600
                )
                assert state_after_recovery(path) == (CURRENT, 0)
        for leftover in (
            path,
            pathlib.Path(f"{path}-journal"),
            pathlib.Path(f"{path}-wal"),
            pathlib.Path(f"{path}-shm"),
        ):
            leftover.unlink(missing_ok=True)
    print(f"SIGKILL during the upgrade of {len(original):,} MonkeyType rows:")
    print("\n".join(outcomes))


def test_upgrade_command_refuses_what_it_cannot_upgrade(tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "missing.sqlite3"
    done = subprocess.run(
        upgrade_command(missing), capture_output=True, text=True, env=child_env(), timeout=120
    )
    assert done.returncode == 2 and "is not a file" in done.stderr
    assert not missing.exists()
    lmdb = [sys.executable, "-m", "tracestore", "upgrade", f"lmdb={tmp_path / 'x.lmdb'}"]
    done = subprocess.run(lmdb, capture_output=True, text=True, env=child_env(), timeout=120)
    assert done.returncode == 2 and "LMDBStore has no upgrade()" in done.stderr
