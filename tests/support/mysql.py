"""The MySQL/MariaDB server the tests use, and throwaway tables on it.

The server is ``TRACESTORE_MYSQL_URL`` (default ``mysql://root@127.0.0.1:3306/test``).
When it cannot be reached, ``require_server`` fails the test under CI (env ``CI`` set) and
skips it, saying why, otherwise. Every table a test run makes is named with the run's
prefix (``TableFactory.prefix``) and dropped by ``TableFactory.drop_all``.
"""

from __future__ import annotations

import itertools
import os
import secrets
from typing import Any, Iterator, List, Optional

import pymysql

from reference_stores.mysql.config import parse_connection_string
from tests.support.servers import require
from tests.support.servers import with_params as with_params  # re-exported for the tests

DEFAULT_URL = "mysql://root@127.0.0.1:3306/test"


def server_url() -> str:
    return os.environ.get("TRACESTORE_MYSQL_URL", DEFAULT_URL)


def admin_connect() -> Any:
    """An autocommit connection to the test server (for setup, inspection and cleanup)."""
    config = parse_connection_string(server_url())
    kwargs: Any = {"user": config.user} if config.user else {}
    if config.password is not None:
        kwargs["password"] = config.password
    return pymysql.connect(
        host=config.host,
        port=config.port,
        database=config.database,
        connect_timeout=5,
        autocommit=True,
        charset="utf8mb4",
        **kwargs,
    )


def query(sql: str, params: Any = None) -> List[Any]:
    """Run one statement on a fresh admin connection; its rows."""
    conn = admin_connect()
    try:
        cursor = conn.cursor()
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        conn.close()


def server_problem() -> Optional[str]:
    """Why the test server cannot be used, or ``None`` when it answers."""
    try:
        query("SELECT 1")
    except pymysql.Error as exc:
        return f"MySQL server {server_url()!r} (env TRACESTORE_MYSQL_URL) is not reachable: {exc}"
    return None


def require_server() -> None:
    """Fail (under CI) or skip (locally) unless the test server answers."""
    require(server_problem(), "TRACESTORE_MYSQL_URL")


class TableFactory:
    """Fresh table names for one test run, and their cleanup."""

    def __init__(self, label: str = "t") -> None:
        self.prefix = f"tstest_{label}_{secrets.token_hex(4)}_"
        self._counter = itertools.count()

    def new_name(self) -> str:
        return f"{self.prefix}{next(self._counter)}"

    def connection_string(self, table: Optional[str] = None) -> str:
        """A store URL on the test server naming ``table`` (a fresh one by default)."""
        return with_params(server_url(), table=table or self.new_name())

    def existing(self) -> List[str]:
        """The run's tables that exist now (made by this process or by any other)."""
        rows = query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
            " AND LEFT(table_name, %s) = %s ORDER BY 1",
            (len(self.prefix), self.prefix),
        )
        return [name if isinstance(name, str) else name.decode() for (name,) in rows]

    def drop_all(self) -> None:
        for name in self.existing():
            query(f"DROP TABLE IF EXISTS `{name}`")


def run_tables(label: str, *, required: bool = True) -> Iterator[TableFactory]:
    """The body of a module-scoped fixture: fresh table names, all dropped afterwards."""
    if required:
        require_server()
    factory = TableFactory(label)
    yield factory
    if required or server_problem() is None:
        factory.drop_all()
