"""The README's example of checking a store with the kit, kept as a test (mypy --strict, no ignores).

It is also the kit's full run over ``SQLiteStore``: every rule, nothing skipped.
"""

from __future__ import annotations

from conformance import CallTraceStoreTests
from reference_stores.sqlite import SQLiteStore


class TestSQLiteStore(CallTraceStoreTests[SQLiteStore]):
    store_class = SQLiteStore
    connection_template = "{directory}/traces.sqlite3"
