"""The README's example of checking a store with the kit, kept as a test (mypy --strict, no ignores).

It is also the kit's full run over ``SQLiteStore``: every rule, nothing skipped.
"""

from __future__ import annotations

import pathlib

from conformance import CallTraceStoreTests
from reference_stores.sqlite import SQLiteStore


class TestSQLiteStore(CallTraceStoreTests[SQLiteStore]):
    ordered_results = True  # S15: filter lists the most recent first

    def make_store(self, directory: pathlib.Path) -> SQLiteStore:
        return SQLiteStore.make_store(self.connection_string(directory))

    def reopen_store(self, store: SQLiteStore, directory: pathlib.Path) -> SQLiteStore:
        return SQLiteStore.make_store(self.connection_string(directory))

    def connection_string(self, directory: pathlib.Path) -> str:
        return str(directory / "traces.sqlite3")
