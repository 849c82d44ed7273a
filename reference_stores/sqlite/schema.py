"""The SQLite schema of ``SQLiteStore``, and its creation and in-place upgrade.

For a store table ``T`` (MonkeyType's ``monkeytype_call_traces`` by default):

* ``T__ts_modules(id, name)`` and ``T__ts_funcs(id, module_id, qualname)`` name things once;
* ``T__ts_traces(id, func_id, digest, created_at, arg_types, return_type, yield_type)``
  holds each distinct trace once (``digest`` is unique; ``created_at`` is when it was
  first stored);
* ``T__ts_recent(seq, trace_id, func_id)`` orders them: one small row per trace, ``seq``
  growing with every add within a module (see ``sqlite.rows``); an index on ``func_id``
  lists one function's traces newest first;
* ``T`` itself is a VIEW with MonkeyType's six columns, so MonkeyType 23.3.0 reads the
  file as its own (``monkeytype stub``/``apply``/``list-modules``);
* MonkeyType's inserts into ``T`` go, through an INSTEAD OF trigger, to
  ``T__ts_incoming`` (MonkeyType's own column layout), which the next ``add`` folds
  into the traces table; ``filter`` reads it meanwhile;
* ``T__ts_meta`` records the schema version.

A file where ``T`` is MonkeyType's plain table is read as it is (``sqlite.plain``) until
the store's first ``add`` or ``python -m tracestore upgrade PATH``, which upgrade it in
one transaction: its rows move, in row-id order, to ``T__ts_incoming``, the table becomes
the view, and the rows are folded in (duplicates collapse to their latest position, S6);
then ``VACUUM`` gives back the pages of the dropped table (``SQLiteStore.upgrade``).
"""

from __future__ import annotations

import sqlite3
from typing import Dict, List, NamedTuple, Optional

from tracestore import StoreConfigError

SCHEMA_VERSION = 1
SEQ_BITS = 40  # ids and recency numbers of module m are the range [m << SEQ_BITS, (m + 1) << SEQ_BITS)
MONKEYTYPE_COLUMNS = ("created_at", "module", "qualname", "arg_types", "return_type", "yield_type")
_COLUMN_LIST = ", ".join(MONKEYTYPE_COLUMNS)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class Names(NamedTuple):
    """The schema objects of one store table, and their quoted forms for SQL."""

    table: str
    modules: str
    funcs: str
    traces: str
    recent: str
    recent_by_func: str
    incoming: str
    incoming_by_module: str
    insert_trigger: str
    meta: str

    @classmethod
    def for_table(cls, table: str) -> Names:
        p = table + "__ts_"
        return cls(
            table,
            p + "modules",
            p + "funcs",
            p + "traces",
            p + "recent",
            p + "recent_by_func",
            p + "incoming",
            p + "incoming_by_module",
            p + "from_monkeytype",
            p + "meta",
        )

    @property
    def q_table(self) -> str:
        return quote(self.table)

    @property
    def q_modules(self) -> str:
        return quote(self.modules)

    @property
    def q_funcs(self) -> str:
        return quote(self.funcs)

    @property
    def q_traces(self) -> str:
        return quote(self.traces)

    @property
    def q_recent(self) -> str:
        return quote(self.recent)

    @property
    def q_incoming(self) -> str:
        return quote(self.incoming)

    def expected(self) -> Dict[str, str]:
        """Every object of a complete schema, by name, with its sqlite_master type."""
        return {
            self.table: "view",
            self.modules: "table",
            self.funcs: "table",
            self.traces: "table",
            self.recent: "table",
            self.recent_by_func: "index",
            self.incoming: "table",
            self.incoming_by_module: "index",
            self.insert_trigger: "trigger",
            self.meta: "table",
        }


def _tables_ddl(n: Names) -> List[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {n.q_modules} (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
        f"CREATE TABLE IF NOT EXISTS {n.q_funcs} (id INTEGER PRIMARY KEY, module_id INTEGER NOT NULL, "
        "qualname TEXT NOT NULL, UNIQUE (module_id, qualname))",
        f"CREATE TABLE IF NOT EXISTS {n.q_traces} (id INTEGER PRIMARY KEY, func_id INTEGER NOT NULL, "
        "digest BLOB NOT NULL UNIQUE, created_at TEXT, arg_types TEXT, return_type TEXT, yield_type TEXT)",
        f"CREATE TABLE IF NOT EXISTS {n.q_recent} (seq INTEGER PRIMARY KEY, "
        "trace_id INTEGER NOT NULL UNIQUE, func_id INTEGER NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {quote(n.recent_by_func)} ON {n.q_recent} (func_id)",
        f"CREATE TABLE IF NOT EXISTS {n.q_incoming} (created_at TEXT, module TEXT, qualname TEXT, "
        "arg_types TEXT, return_type TEXT, yield_type TEXT)",
        f"CREATE INDEX IF NOT EXISTS {quote(n.incoming_by_module)} ON {n.q_incoming} (module)",
        f"CREATE TABLE IF NOT EXISTS {quote(n.meta)} (name TEXT PRIMARY KEY, value)",
    ]


def _view_ddl(n: Names) -> List[str]:
    new_values = ", ".join(f"NEW.{c}" for c in MONKEYTYPE_COLUMNS)
    return [
        f"CREATE VIEW IF NOT EXISTS {n.q_table} ({_COLUMN_LIST}) AS "
        "SELECT t.created_at, m.name, f.qualname, t.arg_types, t.return_type, t.yield_type "
        f"FROM {n.q_modules} AS m JOIN {n.q_recent} AS r "  # a module's rows: one seq range
        f"ON r.seq >= (m.id << {SEQ_BITS}) AND r.seq < ((m.id + 1) << {SEQ_BITS}) "
        f"JOIN {n.q_traces} AS t ON t.id = r.trace_id JOIN {n.q_funcs} AS f ON f.id = r.func_id "
        f"UNION ALL SELECT {_COLUMN_LIST} FROM {n.q_incoming}",
        f"CREATE TRIGGER IF NOT EXISTS {quote(n.insert_trigger)} INSTEAD OF INSERT ON {n.q_table} "
        f"BEGIN INSERT INTO {n.q_incoming} ({_COLUMN_LIST}) VALUES ({new_values}); END",
    ]


def _objects(conn: sqlite3.Connection, n: Names) -> Dict[str, str]:
    wanted = list(n.expected())
    marks = ", ".join("?" * len(wanted))
    rows = conn.execute(f"SELECT name, type FROM sqlite_master WHERE name IN ({marks})", wanted)
    return {str(name): str(kind) for name, kind in rows}


def _version(conn: sqlite3.Connection, n: Names, objects: Dict[str, str]) -> Optional[int]:
    if objects.get(n.meta) != "table":
        return None
    found = conn.execute(f"SELECT value FROM {quote(n.meta)} WHERE name = 'schema_version'").fetchone()
    return None if found is None else int(found[0])


CURRENT, MONKEYTYPE, ABSENT, INCOMPLETE = "current", "monkeytype", "absent", "incomplete"


def classify(conn: sqlite3.Connection, n: Names) -> str:
    """What ``T`` is, read only: ``CURRENT``, ``MONKEYTYPE`` (its plain table), ``ABSENT``
    or ``INCOMPLETE`` (our schema, partly made or older); else ``StoreConfigError``."""
    objects = _objects(conn, n)
    version = _version(conn, n, objects)
    _check_not_newer(n, version)
    if version == SCHEMA_VERSION and objects == n.expected():
        return CURRENT
    kind = objects.get(n.table)
    if kind == "table":
        _check_monkeytype_columns(conn, n)
        return MONKEYTYPE
    if kind == "view" and version is None:
        raise StoreConfigError(f"{n.table!r} is a view that tracestore did not create")
    if kind not in (None, "view"):
        raise StoreConfigError(f"{n.table!r} names an existing {kind}, not a table of call traces")
    return ABSENT if kind is None and version is None else INCOMPLETE


def table_kind(conn: sqlite3.Connection, n: Names) -> Optional[str]:
    """``T``'s sqlite_master type (``table``, ``view``, ...), or None: one cheap read."""
    found = conn.execute("SELECT type FROM sqlite_master WHERE name = ?", (n.table,)).fetchone()
    return None if found is None else str(found[0])


def is_current(conn: sqlite3.Connection, n: Names) -> bool:
    """Whether the schema is complete and current (a read; raises if it is newer than ours)."""
    objects = _objects(conn, n)
    version = _version(conn, n, objects)
    _check_not_newer(n, version)
    return version == SCHEMA_VERSION and objects == n.expected()


def _check_not_newer(n: Names, version: Optional[int]) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise StoreConfigError(
            f"table {n.table!r} has tracestore schema version {version}; this tracestore "
            f"understands up to {SCHEMA_VERSION}: upgrade tracestore"
        )


def create_or_upgrade(conn: sqlite3.Connection, n: Names) -> None:
    """Make the schema complete and current; call in a write transaction, then fold in incoming rows.

    Raises ``StoreConfigError`` (changing nothing, once the caller rolls back) when ``T``
    is something this store cannot take over.
    """
    objects = _objects(conn, n)
    version = _version(conn, n, objects)
    _check_not_newer(n, version)
    kind = objects.get(n.table)
    if kind == "view" and version is None:
        raise StoreConfigError(f"{n.table!r} is a view that tracestore did not create")
    if kind == "table":
        _check_monkeytype_columns(conn, n)
    elif kind not in (None, "view"):
        raise StoreConfigError(f"{n.table!r} names an existing {kind}, not a table of call traces")
    for statement in _tables_ddl(n):
        conn.execute(statement)
    if kind == "table":
        conn.execute(
            f"INSERT INTO {n.q_incoming} ({_COLUMN_LIST}) "
            f"SELECT {_COLUMN_LIST} FROM {n.q_table} ORDER BY rowid"
        )
        conn.execute(f"DROP TABLE {n.q_table}")
    for statement in _view_ddl(n):
        conn.execute(statement)
    conn.execute(
        f"INSERT OR REPLACE INTO {quote(n.meta)} (name, value) VALUES ('schema_version', ?)",
        (SCHEMA_VERSION,),
    )


def _check_monkeytype_columns(conn: sqlite3.Connection, n: Names) -> None:
    columns = {str(row[1]) for row in conn.execute(f"PRAGMA table_info({n.q_table})")}
    missing = [c for c in MONKEYTYPE_COLUMNS if c not in columns]
    if missing:
        raise StoreConfigError(
            f"table {n.table!r} is not a MonkeyType call-trace table: it lacks column(s) {', '.join(missing)}"
        )
