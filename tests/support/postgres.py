"""The PostgreSQL server the tests use, and throwaway schemas on it.

The server is ``TRACESTORE_PG_DSN`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
When it cannot be reached, ``require_server`` fails the test under CI (env ``CI`` set) and
skips it, saying why, otherwise. Every schema a test run makes is named with the run's
prefix (``SchemaFactory.prefix``) and dropped by ``SchemaFactory.drop_all``.
"""

from __future__ import annotations

import itertools
import os
import secrets
from typing import Iterator, List, Optional

import psycopg
from psycopg import sql

from tests.support.servers import require
from tests.support.servers import with_params as with_params  # re-exported for the tests

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
_DROP_BATCH = 50  # schemas per DROP: each one takes several locks, and a transaction has a bounded lock table


def server_dsn() -> str:
    return os.environ.get("TRACESTORE_PG_DSN", DEFAULT_DSN)


def admin_connect() -> psycopg.Connection[psycopg.rows.TupleRow]:
    """An autocommit connection to the test server (for setup, inspection and cleanup)."""
    return psycopg.connect(server_dsn(), autocommit=True, connect_timeout=5)


def server_problem() -> Optional[str]:
    """Why the test server cannot be used, or ``None`` when it answers."""
    try:
        with admin_connect() as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL server {server_dsn()!r} (env TRACESTORE_PG_DSN) is not reachable: {exc}"
    return None


def require_server() -> None:
    """Fail (under CI) or skip (locally) unless the test server answers."""
    require(server_problem(), "TRACESTORE_PG_DSN")


class SchemaFactory:
    """Fresh schema names for one test run, and their cleanup."""

    def __init__(self, label: str = "t") -> None:
        self.prefix = f"tstest_{label}_{secrets.token_hex(4)}_"
        self._counter = itertools.count()

    def new_name(self) -> str:
        return f"{self.prefix}{next(self._counter)}"

    def connection_string(self, schema: Optional[str] = None) -> str:
        """A store URL on the test server naming ``schema`` (a fresh one by default)."""
        return with_params(server_dsn(), tracestore_schema=schema or self.new_name())

    def existing(self) -> List[str]:
        """The run's schemas that exist now (made by this process or by any other)."""
        with admin_connect() as conn:
            rows = conn.execute(
                "SELECT nspname FROM pg_namespace WHERE left(nspname, length(%s)) = %s ORDER BY nspname",
                (self.prefix, self.prefix),
            ).fetchall()
        return [name for (name,) in rows]

    def drop_all(self) -> None:
        names = self.existing()
        with admin_connect() as conn:
            for start in range(0, len(names), _DROP_BATCH):
                chunk = names[start : start + _DROP_BATCH]
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.SQL(", ").join(map(sql.Identifier, chunk))
                    )
                )


def run_schemas(label: str, *, required: bool = True) -> Iterator[SchemaFactory]:
    """The body of a module-scoped fixture: fresh schema names, all dropped afterwards.

    ``required``: skip (under CI, fail) when no server answers; else tests without a
    server may run, and there is nothing to drop.
    """
    if required:
        require_server()
    factory = SchemaFactory(label)
    yield factory
    if required or server_problem() is None:
        factory.drop_all()
