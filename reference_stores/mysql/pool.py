"""``MySQLStore``'s bounded connection pool and its retry policy (PyMySQL)."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

import pymysql

from reference_stores.mysql.config import MySQLConfig
from tracestore import TraceStoreError

logger = logging.getLogger(__name__)

T = TypeVar("T")
Connection = Any  # pymysql.connections.Connection; its stubs leave most methods untyped

#: The server ended the connection (gone away, lost mid-query, KILLed, shutting down, idle
#: timeout): https://mariadb.com/kb/en/mariadb-error-code-reference/
LOST = frozenset({1053, 1927, 2006, 2013, 2055, 4031})
#: The transaction lost a race and was (or must be) rolled back; running it again is safe:
#: 1213 deadlock, 1205 lock wait timeout, 1062 a key another transaction inserted meanwhile.
RACES = frozenset({1213, 1205, 1062})
RACE_RETRIES = 20
ACQUIRE_TIMEOUT = 300.0  # seconds to wait for a free connection of the pool


def error_code(exc: BaseException) -> Optional[int]:
    args: Tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    return args[0] if args and isinstance(args[0], int) else None


def message(exc: BaseException) -> str:
    """A driver error as one line, ``(code) text``; it never holds the password."""
    args: Tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 2 and isinstance(args[0], int):
        return f"({args[0]}) {' '.join(str(args[1]).split())}"
    return " ".join(str(exc).split()) or type(exc).__name__


def connect(config: MySQLConfig) -> Connection:
    """A new autocommit connection, READ COMMITTED (fewer gap locks, fewer deadlocks)."""
    kwargs: Dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "database": config.database,
        "connect_timeout": config.connect_timeout,
        "read_timeout": config.timeout,
        "write_timeout": config.timeout,
        "charset": "utf8mb4",
        "autocommit": True,
        "binary_prefix": True,  # bytes are sent as _binary'...': never read as utf8mb4 text
        "init_command": "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
    }
    if config.user is not None:
        kwargs["user"] = config.user
    if config.password is not None:
        kwargs["password"] = config.password
    return pymysql.connect(**kwargs)


class Pool:
    """At most ``pool_size`` connections; idle ones are reused, broken ones closed."""

    def __init__(self, config: MySQLConfig) -> None:
        self._config = config
        self._slots = threading.BoundedSemaphore(config.pool_size)
        self._lock = threading.Lock()
        self._idle: List[Connection] = []
        self._pid = os.getpid()
        self._closed = False

    @property
    def display(self) -> str:
        return self._config.display

    @property
    def closed(self) -> bool:
        return self._closed

    def run(self, what: str, work: Callable[[Connection], T], *, transaction: bool) -> T:
        """``work(connection)``, in one transaction when ``transaction``, with retries.

        Any error rolls the transaction back before the connection is reused (so no lock,
        metadata locks included, outlives the call); a lost connection is replaced and the
        call run once more; a lost race (deadlock, lock wait timeout) is run again.
        """
        reconnected, races = False, 0
        while True:
            conn = self._acquire(what)
            healthy = False
            try:
                if transaction:
                    conn.query("START TRANSACTION")
                result = work(conn)
                if transaction:
                    conn.commit()
                healthy = True
                return result
            except pymysql.Error as exc:
                code = error_code(exc)
                healthy = code not in LOST and _rollback(conn)
                if code in LOST and not reconnected:
                    logger.warning("MySQLStore %s: connection lost (%s); reconnecting", what, message(exc))
                    reconnected = True
                    self._drop_idle()  # a server restart ended them all: the retry needs a new one
                    continue
                if code in RACES and races < RACE_RETRIES:
                    races += 1
                    logger.debug("MySQLStore %s: %s; running the transaction again", what, message(exc))
                    time.sleep(min(0.001 * 2**races, 0.2))
                    continue
                raise TraceStoreError(f"MySQLStore {self.display!r}: {what} failed: {message(exc)}") from exc
            finally:
                self._release(conn, healthy)

    def _acquire(self, what: str) -> Connection:
        if self._closed:
            raise TraceStoreError(f"MySQLStore {self.display!r} is closed")
        if not self._slots.acquire(timeout=ACQUIRE_TIMEOUT):
            raise TraceStoreError(
                f"MySQLStore {self.display!r}: {what}: no free connection in {ACQUIRE_TIMEOUT:.0f} s"
            )
        try:
            with self._lock:
                if self._pid != os.getpid():  # forked: the parent's sockets are not ours to use
                    self._idle, self._pid = [], os.getpid()
                if self._idle:
                    return self._idle.pop()
            return connect(self._config)
        except pymysql.Error as exc:
            self._slots.release()
            raise TraceStoreError(
                f"MySQLStore {self.display!r}: {what} failed: cannot connect: {message(exc)}"
            ) from exc
        except BaseException:
            self._slots.release()
            raise

    def _release(self, conn: Connection, healthy: bool) -> None:
        try:
            with self._lock:
                if healthy and not self._closed:
                    self._idle.append(conn)
                    return
            _close(conn)
        finally:
            self._slots.release()

    def close(self) -> None:
        """Close every idle connection; ones in use are closed when their call ends."""
        with self._lock:
            self._closed = True
        self._drop_idle()

    def _drop_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            _close(conn)


def _rollback(conn: Connection) -> bool:
    """Roll back; ``False`` (the connection must be dropped, which rolls back) if that fails."""
    try:
        conn.rollback()
    except pymysql.Error:
        return False
    return True


def _close(conn: Connection) -> None:
    try:
        conn.close()
    except pymysql.Error:
        pass
