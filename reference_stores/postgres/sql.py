"""The SQL of ``PostgresStore``: one table per store, its sequence and indexes, and the queries.

Layout (``schema.table``)::

    seq          bigint  recency: from the table's own sequence, never a clock (S5, S15)
    trace_key    bytea   primary key, digest of the five fields (S6: one row per distinct trace)
    module       text COLLATE "C"   exact equality (S2)
    qualname     text COLLATE "C"   byte order, so a prefix is an index range (S3)
    arg_types, return_type, yield_type   text, MonkeyType's JSON (E3)

Indexes ``(left(module, K), seq DESC)`` and ``(left(module, K), left(qualname, K), seq DESC)``
with ``K = INDEX_CHARS`` keep ``filter``'s cost proportional to ``limit`` (no prefix) or
to the matching rows (prefix). Indexing the first ``K`` characters bounds the size of an
index entry, so names of any length can be stored (a B-tree entry must fit in a third of a
page); queries compare the full names too.
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping, NamedTuple, Sequence, Tuple

from psycopg import sql

from reference_stores.postgres.rows import prefix_upper_bound

COLUMNS = ("seq", "trace_key", "module", "qualname", "arg_types", "return_type", "yield_type")
INDEX_CHARS = 200  # at most 800 bytes of UTF-8 per indexed name


class Statements(NamedTuple):
    """Every statement of one store's table, composed once with quoted identifiers."""

    lock: sql.Composed  # the schema's advisory lock, for the transaction that creates the table
    exists: sql.Composed  # one row: the table's regclass, or NULL
    create: sql.Composed  # the DDL; run it under ``lock``, only when ``exists`` says NULL
    check: sql.Composed  # fails unless the table has the columns the store uses
    upsert: sql.Composed  # params: keys, modules, ...; returns how many rows were new
    # filter's queries by (kind, long module); see filter_query for their parameters.
    filters: Mapping[Tuple[str, bool], sql.Composed]
    modules: sql.Composed
    oldest_first: sql.Composed  # every row, oldest first, for a server-side cursor (iter_rows)
    drop_table: sql.Composed  # the table, with its sequence and indexes (drop_store)
    drop_schema: sql.Composed  # the schema, only while it is empty (drop_store)


def advisory_lock_key(schema: str) -> int:
    """A signed 64-bit key for ``pg_advisory_xact_lock``, derived from the schema's name.

    Per schema, not per table: two stores creating different tables in one new schema
    would race on ``CREATE SCHEMA IF NOT EXISTS`` too.
    """
    digest = hashlib.blake2b(f"tracestore:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def filter_query(statements: Statements, module: str, prefix: str, limit: int) -> Tuple[Any, Sequence[Any]]:
    """The query and parameters of one ``filter`` call (module and prefix already escaped).

    A module shorter than ``K`` characters is matched by ``left(module, K) = module`` alone
    (exact, as ``left`` returns the whole name): one condition, which the planner estimates
    well, so it walks the ``(module, seq DESC)`` index and stops after ``limit`` rows.
    """
    k = INDEX_CHARS
    long_module = len(module) >= k
    where: Tuple[Any, ...] = (module[:k], module) if long_module else (module,)
    if not prefix:
        return statements.filters["recent", long_module], (*where, limit)
    upper = prefix_upper_bound(prefix)
    if len(prefix) <= k and upper is not None:
        # Under COLLATE "C" this range is exactly the prefix match (see prefix_upper_bound).
        return statements.filters["range", long_module], (*where, prefix, upper, limit)
    return statements.filters["prefix", long_module], (*where, prefix[:k], prefix, prefix, limit)


def statements(schema: str, table: str) -> Statements:
    seq_name = sql.Identifier(schema, f"{table}_seq")
    names = {
        "schema": sql.Identifier(schema),
        "table": sql.Identifier(schema, table),
        "seq_name": seq_name,
        # Names are [A-Za-z0-9_] (postgres.config), so these quoted literals need no escaping.
        "seq_regclass": sql.Literal(f'"{schema}"."{table}_seq"'),
        "table_regclass": sql.Literal(f'"{schema}"."{table}"'),
        "pkey": sql.Identifier(f"{table}_pkey"),
        "by_module": sql.Identifier(f"{table}_module_seq"),
        "by_qualname": sql.Identifier(f"{table}_module_qualname_seq"),
        "lock_key": sql.Literal(advisory_lock_key(schema)),
        "columns": sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
        "m": sql.SQL(f"left(module, {INDEX_CHARS})"),
        "q": sql.SQL(f"left(qualname, {INDEX_CHARS})"),
        "k": sql.Literal(INDEX_CHARS),
    }

    def q(text: str) -> sql.Composed:
        return sql.SQL(text).format(**names)

    select = "SELECT qualname, arg_types, return_type, yield_type FROM {table} WHERE {m} = %s"
    conditions = {
        "recent": "",
        "range": " AND {q} >= %s AND {q} < %s",
        "prefix": " AND {q} >= %s AND left(qualname, length(%s)) = %s",
    }
    full_module = " AND module = %s"  # needed only when the module is K characters or longer
    order = " ORDER BY seq DESC LIMIT %s"
    filters = {
        (kind, long_module): q(select + (full_module if long_module else "") + condition + order)
        for kind, condition in conditions.items()
        for long_module in (False, True)
    }
    return Statements(
        lock=q("SELECT pg_advisory_xact_lock({lock_key})"),
        exists=q("SELECT to_regclass({table_regclass})"),
        create=q(
            """
            CREATE SCHEMA IF NOT EXISTS {schema};
            CREATE SEQUENCE IF NOT EXISTS {seq_name} AS bigint;
            CREATE TABLE IF NOT EXISTS {table} (
                seq bigint NOT NULL DEFAULT nextval({seq_regclass}),
                trace_key bytea NOT NULL,
                module text COLLATE "C" NOT NULL,
                qualname text COLLATE "C" NOT NULL,
                arg_types text NOT NULL,
                return_type text,
                yield_type text,
                CONSTRAINT {pkey} PRIMARY KEY (trace_key)
            );
            ALTER SEQUENCE {seq_name} OWNED BY {table}.seq;
            CREATE INDEX IF NOT EXISTS {by_module} ON {table} (({m}), seq DESC);
            CREATE INDEX IF NOT EXISTS {by_qualname} ON {table} (({m}), ({q}), seq DESC);
            """
        ),
        check=q("SELECT {columns} FROM {table} LIMIT 0"),
        # Sequence numbers follow the batch's order; rows are written in key order, so that
        # concurrent batches sharing traces lock them in the same order (no deadlock). A trace
        # added again moves to its new place; GREATEST keeps the latest of racing writers.
        upsert=q(
            """
            WITH batch AS MATERIALIZED (
                SELECT nextval({seq_regclass}) AS seq, k, m, q, a, r, y
                FROM unnest(%b::bytea[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[])
                    WITH ORDINALITY AS u (k, m, q, a, r, y, n)
                ORDER BY n
            ), done AS (
                INSERT INTO {table} AS t ({columns})
                SELECT seq, k, m, q, a, r, y FROM batch ORDER BY k
                ON CONFLICT (trace_key) DO UPDATE SET seq = GREATEST(t.seq, EXCLUDED.seq)
                RETURNING (t.xmax::text = '0') AS inserted  -- xmax 0: a new row, not an update
            )
            SELECT count(*) FILTER (WHERE inserted) FROM done
            """
        ),
        filters=filters,
        drop_table=q("DROP TABLE IF EXISTS {table}"),
        drop_schema=q("DROP SCHEMA IF EXISTS {schema} RESTRICT"),
        # A loose index scan: one index probe per distinct module, not a pass over every row.
        # Only modules of K characters or more need their full names looked up.
        modules=q(
            """
            WITH RECURSIVE m (k) AS (
                (SELECT {m} FROM {table} ORDER BY 1 LIMIT 1)
                UNION ALL
                SELECT (SELECT left(t.module, {k}) FROM {table} AS t
                        WHERE left(t.module, {k}) > m.k ORDER BY 1 LIMIT 1)
                FROM m WHERE m.k IS NOT NULL
            )
            SELECT k FROM m WHERE k IS NOT NULL AND length(k) < {k}
            UNION ALL
            SELECT DISTINCT t.module FROM m JOIN {table} AS t ON left(t.module, {k}) = m.k
            WHERE length(m.k) = {k}
            """
        ),
        # No index on seq alone: one sort, streamed by the cursor, beats keyset pages that each scan.
        oldest_first=q(
            "SELECT module, qualname, arg_types, return_type, yield_type FROM {table} ORDER BY seq"
        ),
    )
