"""``RedisStore``: traces from a whole fleet of machines in one Redis database (redis-py)."""

from __future__ import annotations

import logging
import weakref
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, TypeVar, Union

import redis
import redis.exceptions

from reference_stores.redis.config import RedisConfig, key_base, parse_connection_string
from reference_stores.redis.keys import make_batch, module_part, name_bytes, rows_from_json
from reference_stores.redis.scripts import ADD, FORMAT, PAGE, PREFIX_DIGESTS
from reference_stores.rows import checked_rows
from tracestore import (
    CallTraceRow,
    CallTraceStore,
    CallTraceThunk,
    StoreConfigError,
    TraceStoreError,
    check_limit,
    serialize_traces,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
_MAX_LIMIT = 2**53  # exact in Lua's numbers; no store holds more rows
_HMGET_CHUNK = 10_000  # digests per HMGET: bounded replies
STREAM_CHUNK = 2000  # rows per round trip of iter_rows
_DROP_CHUNK = 1000  # keys per SCAN step and per UNLINK of drop_store
_LOST = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class RedisStore(CallTraceStore):
    """Distinct traces, most recent first (S6, S15), under one key prefix of a Redis database.

    Connection string::

        redis://[[user]:password@]host[:port][/db][?param=value&...]   (rediss:// for TLS)
            prefix=NAME           the store's keys are tracestore:{NAME}:... (default "tracestore");
                                  ASCII letters, digits, '_' and '-'
            max_connections=N     bound of the connection pool (default 8)
            timeout=SECONDS       reply and pool-wait timeout (default 30); connecting waits
                                  at most 5 s (less if the timeout is shorter)
            client_name=NAME      CLIENT SETNAME of the store's connections

    Each ``add`` is one Lua script (EVALSHA; redis-py loads it again if the server forgot it):
    atomic, even when the connection is killed meanwhile. Recency comes from a counter the
    script increments on the server. The key layout is in ``reference_stores.redis.keys``.
    A call whose connection is lost is retried once on a new connection (an ``add`` again
    is harmless: the same rows move to the same newest places), else it raises
    ``TraceStoreError``. Durability is the server's: with no persistence configured, a
    server restart loses every trace. Thread-safe; ``close()`` releases the pool.
    """

    ordered_results = True
    distinct_results = True
    example_connection_string = "redis://127.0.0.1:6379/0?prefix=ts_{unique}"

    def __init__(self, config: RedisConfig) -> None:
        """Connect (no key is written until the first ``add``); prefer ``make_store``."""
        self._config = config
        self._base = key_base(config.prefix)
        self._pool = _pool(config)
        self._closer = weakref.finalize(self, self._pool.disconnect)
        self._client = redis.Redis(connection_pool=self._pool)
        self._add = self._client.register_script(ADD)
        self._prefix_digests = self._client.register_script(PREFIX_DIGESTS)
        self._page = self._client.register_script(PAGE)
        self._closed = False
        try:
            self._check_keys()
        except BaseException:
            self.close()
            raise

    @classmethod
    def make_store(cls, connection_string: str) -> RedisStore:
        return cls(parse_connection_string(connection_string))

    @classmethod
    def drop_store(cls, connection_string: str) -> None:
        """Delete every key of the store the string names (SCAN by its prefix, then UNLINK).

        The kit's runner calls it for each store it made. Keys are found with ``SCAN``
        (never ``KEYS`` or ``FLUSHDB``): other data in the database is left alone.
        """
        config = parse_connection_string(connection_string)
        pattern = _glob_escape(key_base(config.prefix)) + b"*"
        pool = _pool(config)
        try:
            client = redis.Redis(connection_pool=pool)
            doomed: List[bytes] = []
            for key in client.scan_iter(match=pattern, count=_DROP_CHUNK):
                doomed.append(key)
                if len(doomed) >= _DROP_CHUNK:
                    client.unlink(*doomed)
                    doomed.clear()
            if doomed:
                client.unlink(*doomed)
        except redis.exceptions.RedisError as exc:
            raise TraceStoreError(f"RedisStore {config.display!r}: drop failed: {_message(exc)}") from exc
        finally:
            pool.disconnect()

    def add(self, traces: Iterable[Any]) -> None:
        self._store("add", serialize_traces(traces))

    def add_rows(self, rows: Iterable[Any]) -> int:
        """Store encoded rows as they are, like ``add`` (``tracestore.copy.RowSink``); returns how
        many distinct rows were not stored before.

        Raises ``EncodeError``, storing nothing, for a row with a field of the wrong type.
        """
        return self._store("add_rows", checked_rows(rows))

    def iter_rows(self) -> Iterator[CallTraceRow]:
        """Every stored row, oldest first across modules, ``STREAM_CHUNK`` per round trip.

        Each page is read atomically; a row re-added during the iteration moves past the
        current page and is listed again there (``tracestore.copy.RowSource``).
        """
        after = b"-inf"
        while True:
            args: List[Union[bytes, int]] = [self._base, after, STREAM_CHUNK]
            found = self._run("iter_rows", lambda: self._page(args=args))  # noqa: B023 (called at once)
            yield from rows_from_json(found[0])
            if found[2] < STREAM_CHUNK:
                return
            after = found[1]

    def _store(self, what: str, rows: Iterable[CallTraceRow]) -> int:
        """Store the batch in one script; returns how many of its distinct rows were new (the
        script's count of fields its ``HSET`` of the rows hash added)."""
        batch = make_batch(rows)
        if not batch.rows:
            return 0
        return int(self._run(what, lambda: self._add(args=[self._base, FORMAT, *batch.args])))

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        check_limit(limit)
        if limit == 0:
            return []
        limit = min(limit, _MAX_LIMIT)
        module_key = module_part(module)
        prefix = name_bytes(qualname_prefix or "")

        def read() -> List[Any]:
            # Rows are never deleted, so the digests read first all have rows: the answer is the
            # store's state when the digests were read (S5), whatever adds run in between.
            if prefix:
                digests = self._prefix_digests(args=[self._base, module_key, prefix, limit])
            else:
                digests = self._client.zrevrange(self._base + b"M:" + module_key, 0, limit - 1)
            rows: List[Any] = []
            for start in range(0, len(digests), _HMGET_CHUNK):
                rows += self._client.hmget(self._base + b"rows", digests[start : start + _HMGET_CHUNK])
            return rows

        blobs = self._run("filter", read)
        # One JSON document for all rows: one parse, far faster than one per row.
        return list(
            rows_from_json(b"[" + b",".join(blob for blob in blobs if isinstance(blob, bytes)) + b"]")
        )

    def list_modules(self) -> List[str]:
        found = self._run("list_modules", lambda: self._client.smembers(self._base + b"mods"))
        return [name.decode("utf-8", "surrogatepass") for name in found if isinstance(name, bytes)]

    def close(self) -> None:
        """Release the pool's connections; the store cannot be used afterwards."""
        self._closed = True
        self._closer()

    def __enter__(self) -> RedisStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._config.display!r})"

    def _check_keys(self) -> None:
        """S14: the server answers and the prefix holds no other program's keys; writes nothing."""
        display = self._config.display
        try:
            marker = self._client.get(self._base + b"format")
        except redis.exceptions.ResponseError as exc:
            if "WRONGTYPE" not in str(exc):
                raise StoreConfigError(f"RedisStore connection string {display!r}: {_message(exc)}") from None
            marker = b"(not a string)"
        except redis.exceptions.RedisError as exc:
            raise StoreConfigError(
                f"RedisStore connection string {display!r}: cannot connect: {_message(exc)}"
            ) from None
        if marker is not None and marker != FORMAT.encode():
            raise StoreConfigError(
                f"RedisStore connection string {display!r}: the keys of prefix {self._config.prefix!r} "
                f"are not a {FORMAT} store (found {marker[:40]!r})"
            )

    def _run(self, what: str, work: Callable[[], T]) -> T:
        """``work()``; once more on a new connection if the connection was lost."""
        if self._closed:
            raise TraceStoreError(f"RedisStore {self._config.display!r} is closed")
        try:
            try:
                return work()
            except _LOST as exc:
                logger.warning("RedisStore %s: connection lost (%s); retrying", what, _message(exc))
                return work()
        except redis.exceptions.RedisError as exc:
            raise TraceStoreError(
                f"RedisStore {self._config.display!r}: {what} failed: {_message(exc)}"
            ) from exc


def _pool(config: RedisConfig) -> redis.BlockingConnectionPool:
    """A bounded pool: a caller waits up to ``timeout`` for a free connection, never opens more."""
    kwargs: Dict[str, Any] = {}
    if config.ssl:
        kwargs["connection_class"] = redis.SSLConnection
    return redis.BlockingConnectionPool(  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
        max_connections=config.max_connections,
        timeout=config.timeout,
        host=config.host,
        port=config.port,
        db=config.db,
        username=config.username,
        password=config.password,
        client_name=config.client_name,
        socket_timeout=config.timeout,
        socket_connect_timeout=min(config.timeout, 5.0),
        socket_keepalive=True,
        health_check_interval=30,
        **kwargs,
    )


def _glob_escape(text: bytes) -> bytes:
    """``text`` as a literal SCAN MATCH pattern."""
    out = bytearray()
    for byte in text:
        if byte in b"*?[]\\":
            out += b"\\"
        out.append(byte)
    return bytes(out)


def _message(exc: BaseException) -> str:
    """An exception as one line, with no password (redis-py never puts one in its messages)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
