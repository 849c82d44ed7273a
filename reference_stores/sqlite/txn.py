"""Connections and transactions for ``SQLiteStore``: WAL, a busy timeout, retries on SQLITE_BUSY (S11).

Every write is one ``BEGIN IMMEDIATE`` transaction, so it takes the write lock before it
reads anything and cannot deadlock against another writer.  SQLite waits up to the busy
timeout for the lock; the few cases where it gives up at once (WAL recovery, a snapshot
that went stale) are retried here with jittered exponential backoff until the same
deadline, so concurrent writers never see "database is locked".
"""

from __future__ import annotations

import random
import sqlite3
import time
from typing import Callable, TypeVar

from reference_stores.sqlite.config import SQLiteConfig

T = TypeVar("T")

_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_FIRST_DELAY = 0.002
_MAX_DELAY = 0.25
CACHE_KIB = 32 * 1024  # page cache per connection: 32 MiB keeps hot index pages in memory


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "busy" or "locked", i.e. worth retrying."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if isinstance(code, int):
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def retrying(timeout: float, attempt: Callable[[], T]) -> T:
    """Run ``attempt`` until it does not fail with busy/locked, or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    delay = _FIRST_DELAY
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, _MAX_DELAY)


def connect(config: SQLiteConfig) -> sqlite3.Connection:
    """A connection in autocommit mode (we issue BEGIN/COMMIT); it writes nothing (see ``enable_wal``)."""
    conn = sqlite3.connect(
        config.database,
        timeout=config.timeout,
        isolation_level=None,
        check_same_thread=False,  # the store serializes its use with a lock
        uri=config.uri,
    )
    try:
        # Reading the schema first makes a file that is not a database fail here, unmodified.
        retrying(config.timeout, lambda: conn.execute("SELECT count(*) FROM sqlite_master").fetchone())
        conn.execute(f"PRAGMA synchronous={config.synchronous}")
        conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    except BaseException:
        conn.close()
        raise
    return conn


def enable_wal(conn: sqlite3.Connection, config: SQLiteConfig) -> None:
    """Put a file that holds our schema in WAL mode (it stays so); a write to the file's header.

    Never on a read-only store, nor on a file we have not written: a MonkeyType file keeps
    its journal mode until it is upgraded.
    """
    if config.path is not None and not config.read_only:
        retrying(config.timeout, lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone())


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite rolls back by itself when it cannot; the original error matters more


def transaction(conn: sqlite3.Connection, timeout: float, body: Callable[[], T], write: bool) -> T:
    """Run ``body`` in one transaction (``BEGIN IMMEDIATE`` if ``write``), retried whole on busy.

    ``body`` must be safe to run again: it may be rolled back and retried.
    """

    def attempt() -> T:
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            result = body()
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
        return result

    return retrying(timeout, attempt)
