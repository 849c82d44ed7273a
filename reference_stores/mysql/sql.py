"""The SQL of ``MySQLStore``: one InnoDB table per store, its indexes, and the queries.

Layout (the table named by ``table=``)::

    seq          BIGINT UNSIGNED AUTO_INCREMENT  recency from the server, never a clock (S5, S15)
    trace_key    BINARY(16) UNIQUE   digest of the five fields (S6: one row per distinct trace)
    module_key   BINARY(16)          digest of the module: names of any length are indexed
    module, qualname, arg_types, return_type, yield_type   LONGBLOB: UTF-8 bytes (E3)

Binary columns compare byte by byte: no case folding, no PAD SPACE, no accent or normal
form folding, whatever the server's default collation (``utf8mb4_general_ci``, or
``utf8mb4_bin``, which is PAD SPACE in MariaDB). ``(module_key, seq)`` serves
``filter`` without a prefix by walking ``limit`` index entries backwards;
``(module_key, qualname(255), seq)`` serves a prefix as a byte range (never ``LIKE``).
Queries compare the full names too, so a digest collision cannot mix modules.
"""

from __future__ import annotations

from typing import NamedTuple, Tuple

QUALNAME_INDEX_BYTES = 255
_RETURNED = "qualname, arg_types, return_type, yield_type"
INSERTED = "trace_key, module_key, module, qualname, arg_types, return_type, yield_type"
ROW_PLACEHOLDERS = "(%s, %s, %s, %s, %s, %s, %s)"


class Statements(NamedTuple):
    """Every statement of one store's table (its name validated: ``mysql.config``)."""

    create: str
    check: str  # fails unless the table has the columns the store uses
    delete: str  # ``{}``: the placeholders of the keys
    insert: str  # ``{}``: one ROW_PLACEHOLDERS per row
    recent: str  # params: module_key, module, limit
    prefixed: str  # params: module_key, module, lower, upper, limit
    modules: str
    oldest_first: str
    drop: str


def statements(table: str) -> Statements:
    t = f"`{table}`"
    # Index hints: for ORDER BY ... LIMIT the optimizer may walk the primary key backwards and
    # filter, which reads every newer row of every other module before the first match.
    select = f"SELECT {_RETURNED} FROM {t} {{}} WHERE module_key = %s AND module = %s"
    order = " ORDER BY seq DESC LIMIT %s"
    return Statements(
        create=f"""
            CREATE TABLE IF NOT EXISTS {t} (
                seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
                trace_key BINARY(16) NOT NULL,
                module_key BINARY(16) NOT NULL,
                module LONGBLOB NOT NULL,
                qualname LONGBLOB NOT NULL,
                arg_types LONGBLOB NOT NULL,
                return_type LONGBLOB NULL,
                yield_type LONGBLOB NULL,
                PRIMARY KEY (seq),
                UNIQUE KEY trace_key (trace_key),
                KEY by_module (module_key, seq),
                KEY by_qualname (module_key, qualname({QUALNAME_INDEX_BYTES}), seq)
            ) ENGINE=InnoDB ROW_FORMAT=DYNAMIC""",
        check=f"SELECT seq, {INSERTED} FROM {t} LIMIT 0",
        delete=f"DELETE FROM {t} WHERE trace_key IN ({{}})",
        insert=f"INSERT INTO {t} ({INSERTED}) VALUES {{}}",
        recent=select.format("FORCE INDEX (by_module)") + order,
        prefixed=select.format("USE INDEX (by_module, by_qualname)")
        + " AND qualname >= %s AND qualname < %s"
        + order,
        # One index probe per module (a loose index scan of by_module), then its full name.
        modules=(
            f"SELECT t.module FROM {t} AS t JOIN "
            f"(SELECT MAX(seq) AS seq FROM {t} GROUP BY module_key) AS m ON t.seq = m.seq"
        ),
        oldest_first=f"SELECT module, {_RETURNED} FROM {t} ORDER BY seq",
        drop=f"DROP TABLE IF EXISTS {t}",
    )


def placeholders(count: int, each: str = "%s") -> str:
    return ", ".join([each] * count)


def chunks(sizes: Tuple[int, ...], max_rows: int, max_bytes: int) -> Tuple[Tuple[int, int], ...]:
    """``(start, end)`` slices of rows with ``sizes``, each at most ``max_rows`` rows and
    ``max_bytes`` bytes (a single larger row makes a slice of its own)."""
    found = []
    start, total = 0, 0
    for index, size in enumerate(sizes):
        if index > start and (index - start >= max_rows or total + size > max_bytes):
            found.append((start, index))
            start, total = index, 0
        total += size
    if start < len(sizes):
        found.append((start, len(sizes)))
    return tuple(found)
