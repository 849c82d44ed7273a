"""The way back: ``copy sqlite=ours.sqlite3 monkeytype=plain.sqlite3`` writes a plain MonkeyType 23.3.0 file.

It is checked by MonkeyType's own ``SQLiteStore``, by the ``sqlite3`` shell (a tool that
reads the table directly) and by python's ``sqlite3`` module.
"""

from __future__ import annotations

import hashlib
import io
import os
import pathlib
import shutil
import sqlite3
import subprocess
from typing import Any, Dict, List, Tuple

import pytest
from monkeytype.db.sqlite import SQLiteStore as MonkeyTypeStore

from reference_stores.sqlite import MonkeyTypeFileStore, SQLiteStore
from tests.support.workload import distinct_traces, production_workload
from tracestore import StoreConfigError, TraceStoreError
from tracestore.__main__ import main

TABLE = "monkeytype_call_traces"
Row = Tuple[Any, ...]

# MonkeyType's own datetime adapter is deprecated since Python 3.12.
pytestmark = pytest.mark.filterwarnings("ignore:The default datetime adapter:DeprecationWarning")


def sha1(path: pathlib.Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def history(store: Any) -> Dict[str, List[Row]]:
    return {
        module: [
            (r.module, r.qualname, r.arg_types, r.return_type, r.yield_type)
            for r in store.filter(module, None, 10**6)
        ]
        for module in sorted(store.list_modules())
    }


def ours_with_repeats(path: pathlib.Path) -> SQLiteStore:
    store = SQLiteStore.make_store(str(path))
    store.add(production_workload(2000, seed=1))  # repeats: stored once each, at the latest place
    store.add(distinct_traces(300))
    store.add(production_workload(500, seed=2))
    return store


def sqlite_shell(path: pathlib.Path, command: str) -> str:
    shell = shutil.which("sqlite3")
    if shell is None:  # .ci/run installs it
        if os.environ.get("CI"):
            pytest.fail("the sqlite3 shell is not installed; CI must have it", pytrace=False)
        pytest.skip("the sqlite3 shell is not installed (apt-get install -y sqlite3)")
    done = subprocess.run([shell, str(path), command], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def monkeytype_ddl(tmp_path: pathlib.Path) -> str:
    """The CREATE TABLE statement of a file that MonkeyType itself made."""
    reference = tmp_path / "reference.sqlite3"
    MonkeyTypeStore.make_store(str(reference))
    (ddl,) = sqlite3.connect(str(reference)).execute("SELECT sql FROM sqlite_master").fetchone()
    return str(ddl)


def test_copy_writes_a_plain_monkeytype_file_that_monkeytype_and_the_shell_read(
    tmp_path: pathlib.Path,
) -> None:
    ours_path, plain_path = tmp_path / "ours.sqlite3", tmp_path / "plain.sqlite3"
    ours = ours_with_repeats(ours_path)
    expected = history(ours)
    rows = sum(map(len, expected.values()))
    ours.close()
    before = sha1(ours_path)

    err = io.StringIO()
    assert main(["copy", "--quiet", f"sqlite={ours_path}", f"monkeytype={plain_path}"], stderr=err) == 0, (
        err.getvalue()
    )
    assert f"{rows:,} rows read from" in err.getvalue()
    assert sha1(ours_path) == before  # the source was only read

    # One table in MonkeyType's own schema, and nothing else; rollback journal, as MonkeyType leaves it.
    conn = sqlite3.connect(str(plain_path))
    assert conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall() == [
        ("table", TABLE, monkeytype_ddl(tmp_path))
    ]
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    table_rows = conn.execute(
        f"SELECT module, qualname, arg_types, return_type, yield_type FROM {TABLE}"
    ).fetchall()
    conn.close()
    assert sorted(table_rows) == sorted(row for found in expected.values() for row in found)  # each row once

    # MonkeyType's own store reads it (its filter lists distinct rows in its own order).
    theirs = MonkeyTypeStore.make_store(str(plain_path))
    assert sorted(theirs.list_modules()) == sorted(expected)
    for module, found in expected.items():
        mt_rows: List[Any] = theirs.filter(module, None, 10**6)
        assert sorted(
            (r.module, r.qualname, r.arg_types, r.return_type, r.yield_type) for r in mt_rows
        ) == sorted(found)
        assert all(r.to_trace() is not None for r in mt_rows[:5])  # and decodes them

    # The sqlite3 shell reads the table directly.
    assert sqlite_shell(plain_path, ".tables").split() == [TABLE]
    assert int(sqlite_shell(plain_path, f"SELECT count(*) FROM {TABLE};")) == rows
    assert sqlite_shell(plain_path, "PRAGMA integrity_check;").strip() == "ok"

    # Read back by the plain store, and copied into a fresh SQLiteStore: the same history, in order.
    assert history(MonkeyTypeFileStore.make_store(str(plain_path))) == expected
    back = tmp_path / "back.sqlite3"
    assert main(["copy", "--quiet", f"monkeytype={plain_path}", f"sqlite={back}"], stderr=err) == 0
    assert history(SQLiteStore.make_store(str(back))) == expected


def test_the_plain_store_refuses_our_files_and_read_only_writes(tmp_path: pathlib.Path) -> None:
    ours_path = tmp_path / "ours.sqlite3"
    SQLiteStore.make_store(str(ours_path)).add(production_workload(10))
    before = sha1(ours_path)
    with pytest.raises(StoreConfigError, match="SQLiteStore's view, not MonkeyType's plain table"):
        MonkeyTypeFileStore.make_store(str(ours_path))
    assert sha1(ours_path) == before
    plain_path = tmp_path / "plain.sqlite3"
    MonkeyTypeFileStore.make_store(str(plain_path)).add(production_workload(10))
    reader = MonkeyTypeFileStore.make_read_only_store(str(plain_path))
    before = sha1(plain_path)
    with pytest.raises(TraceStoreError, match="read-only"):
        reader.add(production_workload(1))
    assert reader.list_modules() and sha1(plain_path) == before
