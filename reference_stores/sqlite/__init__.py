"""The SQLite reference stores: ``SQLiteStore`` (a file MonkeyType shares) and MonkeyType's plain format."""

from reference_stores.sqlite.monkeytype_file import MonkeyTypeFileStore
from reference_stores.sqlite.store import SQLiteStore

__all__ = ["MonkeyTypeFileStore", "SQLiteStore"]
