"""The Redis server the tests use, and throwaway key prefixes on it.

The server is ``TRACESTORE_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``). When it
cannot be reached, ``require_server`` fails the test under CI (env ``CI`` set) and skips it,
saying why, otherwise. Every prefix a test run makes starts with the run's own
(``PrefixFactory.prefix``), and ``PrefixFactory.drop_all`` deletes all their keys.
"""

from __future__ import annotations

import itertools
import os
import secrets
from typing import Iterator, List, Optional

import redis

from tests.support.servers import require
from tests.support.servers import with_params as with_params  # re-exported for the tests

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def server_url() -> str:
    return os.environ.get("TRACESTORE_REDIS_URL", DEFAULT_URL)


def admin_client() -> redis.Redis:
    """A client of the test server (for setup, inspection and cleanup)."""
    return redis.Redis.from_url(server_url(), socket_connect_timeout=5, socket_timeout=60)


def server_problem() -> Optional[str]:
    """Why the test server cannot be used, or ``None`` when it answers."""
    try:
        with admin_client() as client:
            client.ping()
    except redis.exceptions.RedisError as exc:
        return f"Redis server {server_url()!r} (env TRACESTORE_REDIS_URL) is not reachable: {exc}"
    return None


def require_server() -> None:
    """Fail (under CI) or skip (locally) unless the test server answers."""
    require(server_problem(), "TRACESTORE_REDIS_URL")


def store_keys(prefix: str) -> List[bytes]:
    """Every key whose store prefix starts with ``prefix`` (SCAN, as ``drop_store`` does)."""
    with admin_client() as client:
        return sorted(client.scan_iter(match=f"tracestore:{{{prefix}*".encode(), count=1000))


class PrefixFactory:
    """Fresh key prefixes for one test run, and their cleanup."""

    def __init__(self, label: str = "t") -> None:
        self.prefix = f"tstest_{label}_{secrets.token_hex(4)}_"
        self._counter = itertools.count()

    def new_name(self) -> str:
        return f"{self.prefix}{next(self._counter)}"

    def connection_string(self, prefix: Optional[str] = None, **params: str) -> str:
        """A store URL on the test server naming ``prefix`` (a fresh one by default)."""
        return with_params(server_url(), prefix=prefix or self.new_name(), **params)

    def keys(self) -> List[bytes]:
        """Every key of the run's stores (made by this process or by any other)."""
        return store_keys(self.prefix)

    def drop_all(self) -> None:
        doomed = self.keys()
        with admin_client() as client:
            for start in range(0, len(doomed), 1000):
                client.unlink(*doomed[start : start + 1000])


def run_prefixes(label: str, *, required: bool = True) -> Iterator[PrefixFactory]:
    """The body of a module-scoped fixture: fresh prefixes, all their keys deleted afterwards.

    ``required``: skip (under CI, fail) when no server answers; else tests without a
    server may run, and there is nothing to delete.
    """
    if required:
        require_server()
    factory = PrefixFactory(label)
    yield factory
    if required or server_problem() is None:
        factory.drop_all()
