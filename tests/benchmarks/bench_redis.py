"""RedisStore speed: add throughput and filter latency, against PostgreSQL and SQLite stores in the same run.

Run: ``python -m tests.benchmarks.bench_redis [--quick]`` (or ``nox -s bench``); needs the Redis
server of ``TRACESTORE_REDIS_URL`` and the PostgreSQL server of ``TRACESTORE_PG_DSN``.

* add: the production-like workload, in tracer-sized batches and as one batch, into a fresh
  store per round; RedisStore, PostgresStore, our SQLiteStore and MonkeyType's alternate.
* filter(limit=2000): at 100,000 and 1,000,000 stored distinct traces
  (``tests.support.workload.filter_corpus``; loaded by ``add`` in batches of 100,000 for
  Redis, as ``bench_postgres`` loads the others). With ``hiredis`` installed, redis-py parses
  replies in C (about twice as fast a ``filter``); the first line says which parser ran.

Every figure's last two columns are ratios to our SQLiteStore and to MonkeyType's store,
measured in this run (>1: faster).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import redis as redis_py
from monkeytype.db.sqlite import SQLiteStore as MonkeyTypeSQLiteStore
from redis.utils import HIREDIS_AVAILABLE

from reference_stores.postgres import PostgresStore
from reference_stores.redis import RedisStore
from reference_stores.sqlite import SQLiteStore
from tests.benchmarks.bench_postgres import (
    MONKEYTYPE,
    SQLITE,
    Contender,
    _add_in_chunks,
    _copy_into_postgres,
    _insert_into_monkeytype,
    bench_add,
    bench_filter,
)
from tests.benchmarks.common import parse_args
from tests.support import postgres, redis


def contenders(
    schemas: postgres.SchemaFactory, prefixes: redis.PrefixFactory, directory: Path
) -> List[Contender]:
    paths = (str(directory / f"store{n}.sqlite3") for n in range(1_000_000))
    return [
        Contender("RedisStore", lambda: RedisStore.make_store(prefixes.connection_string()), _load_redis),
        Contender(
            "PostgresStore",
            lambda: PostgresStore.make_store(schemas.connection_string()),
            _copy_into_postgres,
        ),
        Contender(SQLITE, lambda: SQLiteStore.make_store(next(paths)), _add_in_chunks),
        Contender(MONKEYTYPE, lambda: MonkeyTypeSQLiteStore.make_store(next(paths)), _insert_into_monkeytype),
    ]


def main() -> None:
    args = parse_args(__doc__ or "")
    require_servers_or_exit()
    start = time.perf_counter()
    print(
        f"redis-py {redis_py.__version__}, reply parser: {'hiredis' if HIREDIS_AVAILABLE else 'pure Python'}"
    )
    with servers() as (schemas, prefixes), tempfile.TemporaryDirectory(prefix="bench_redis") as directory:
        all_contenders = contenders(schemas, prefixes, Path(directory))
        n = 2_000 if args.quick else 20_000
        bench_add(all_contenders, n, batch=1_000, rounds=args.rounds)
        bench_add(all_contenders, n, batch=n, rounds=args.rounds)
        prefixes.drop_all()
        for size in (2_000, 20_000) if args.quick else (100_000, 1_000_000):
            bench_filter(all_contenders, size, rounds=max(args.rounds, 9))
            schemas.drop_all()
            prefixes.drop_all()
    print(f"\nbench_redis took {time.perf_counter() - start:.0f} s")


def _load_redis(store: RedisStore, traces: List[Any]) -> None:
    """``add`` in batches of 100,000, and print the server memory the traces take."""
    with redis.admin_client() as client:
        before = int(client.info("memory")["used_memory"])
        _add_in_chunks(store, traces)
        used = int(client.info("memory")["used_memory"]) - before
    print(f"  RedisStore: {used / len(traces):,.0f} bytes of server memory per distinct trace")


@contextlib.contextmanager
def servers() -> Iterator[Tuple[postgres.SchemaFactory, redis.PrefixFactory]]:
    """Fresh PostgreSQL schemas and Redis prefixes for the run, all removed at the end."""
    schemas, prefixes = postgres.SchemaFactory("bench"), redis.PrefixFactory("bench")
    try:
        yield schemas, prefixes
    finally:
        try:
            schemas.drop_all()
        finally:
            prefixes.drop_all()


def require_servers_or_exit() -> None:
    import pytest  # require_server reports through pytest's outcomes

    try:
        redis.require_server()
        postgres.require_server()
    except (pytest.skip.Exception, pytest.fail.Exception) as outcome:
        raise SystemExit(f"bench_redis: {outcome}") from None


if __name__ == "__main__":
    main()
