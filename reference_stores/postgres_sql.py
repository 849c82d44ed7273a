"""The SQL of ``PostgresStore``: one table per store, its sequence and indexes, and the queries.

Layout (``schema.table``)::

    seq          bigint  recency: from the table's own sequence, never a clock (S5, S15)
    trace_key    bytea   primary key, digest of the five fields (S6: one row per distinct trace)
    module       text COLLATE "C"   exact equality (S2)
    qualname     text COLLATE "C"   byte order, so a prefix is an index range (S3)
    arg_types, return_type, yield_type   text, MonkeyType's JSON (E3)

Indexes ``(module, seq DESC)`` and ``(module, qualname, seq DESC)`` keep ``filter``'s
cost proportional to ``limit`` (no prefix) or to the matching rows (prefix).
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from psycopg import sql

COLUMNS = ("seq", "trace_key", "module", "qualname", "arg_types", "return_type", "yield_type")


class Statements(NamedTuple):
    """Every statement of one store's table, composed once with quoted identifiers."""

    lock: sql.Composed  # the schema's advisory lock, for the transaction that creates the table
    exists: sql.Composed  # one row: the table's regclass, or NULL
    create: sql.Composed  # the DDL; run it under ``lock``, only when ``exists`` says NULL
    check: sql.Composed  # fails unless the table has the columns the store uses
    upsert: sql.Composed  # params: keys, modules, qualnames, arg_types, return_types, yield_types
    recent: sql.Composed  # params: module, limit
    recent_prefixed: sql.Composed  # params: module, prefix, upper bound, limit
    recent_prefixed_unbounded: sql.Composed  # params: module, prefix, prefix, prefix, limit
    modules: sql.Composed


def advisory_lock_key(schema: str) -> int:
    """A signed 64-bit key for ``pg_advisory_xact_lock``, derived from the schema's name.

    Per schema, not per table: two stores creating different tables in one new schema
    would race on ``CREATE SCHEMA IF NOT EXISTS`` too.
    """
    digest = hashlib.blake2b(f"tracestore:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def statements(schema: str, table: str) -> Statements:
    name = sql.Identifier(schema, table)
    seq_name = sql.Identifier(schema, f"{table}_seq")
    names = {
        "schema": sql.Identifier(schema),
        "table": name,
        "seq_name": seq_name,
        "seq_regclass": sql.Literal(f'"{schema}"."{table}_seq"'),  # names are [A-Za-z0-9_]: no escaping
        "pkey": sql.Identifier(f"{table}_pkey"),
        "by_module": sql.Identifier(f"{table}_module_seq"),
        "by_qualname": sql.Identifier(f"{table}_module_qualname_seq"),
        "lock_key": sql.Literal(advisory_lock_key(schema)),
        "table_regclass": sql.Literal(f'"{schema}"."{table}"'),
        "columns": sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
    }

    def q(text: str) -> sql.Composed:
        return sql.SQL(text).format(**names)

    fields = "qualname, arg_types, return_type, yield_type"
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
            CREATE INDEX IF NOT EXISTS {by_module} ON {table} (module, seq DESC);
            CREATE INDEX IF NOT EXISTS {by_qualname} ON {table} (module, qualname, seq DESC);
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
            )
            INSERT INTO {table} AS t ({columns})
            SELECT seq, k, m, q, a, r, y FROM batch ORDER BY k
            ON CONFLICT (trace_key) DO UPDATE SET seq = GREATEST(t.seq, EXCLUDED.seq)
            """
        ),
        recent=q(f"SELECT {fields} FROM {{table}} WHERE module = %s ORDER BY seq DESC LIMIT %s"),
        # Under COLLATE "C" the range is exactly the prefix match (postgres_rows.prefix_upper_bound),
        # and the planner estimates it well; left() is the fallback when there is no upper bound.
        recent_prefixed=q(
            f"SELECT {fields} FROM {{table}} WHERE module = %s AND qualname >= %s AND qualname < %s"
            " ORDER BY seq DESC LIMIT %s"
        ),
        recent_prefixed_unbounded=q(
            f"SELECT {fields} FROM {{table}} WHERE module = %s AND qualname >= %s"
            " AND left(qualname, length(%s)) = %s ORDER BY seq DESC LIMIT %s"
        ),
        # A loose index scan: one index probe per distinct module, not a pass over every row.
        modules=q(
            """
            WITH RECURSIVE m (module) AS (
                (SELECT module FROM {table} ORDER BY module LIMIT 1)
                UNION ALL
                SELECT (SELECT t.module FROM {table} AS t WHERE t.module > m.module ORDER BY t.module LIMIT 1)
                FROM m WHERE m.module IS NOT NULL
            )
            SELECT module FROM m WHERE module IS NOT NULL
            """
        ),
    )
