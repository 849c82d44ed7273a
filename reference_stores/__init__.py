"""Reference call-trace stores: in-memory, SQLite, LMDB and PostgreSQL.

Import the one you need (``reference_stores.sqlite.SQLiteStore``, ...); each
backend's third-party driver is imported only by its own module.
"""
