"""The SQLite reference store: one file, shared with MonkeyType's own ``SQLiteStore``."""

from reference_stores.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore"]
