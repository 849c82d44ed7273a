"""A ready-made MonkeyType config that keeps traces in the store the environment names.

Use it with no code at all::

    TRACESTORE_STORE=lmdb TRACESTORE_CONNECTION=traces.lmdb \\
        monkeytype -c tracestore.monkeytype_config:CONFIG run myscript.py

or put ``from tracestore.monkeytype_config import CONFIG`` in a ``monkeytype_config.py``
on the path (MonkeyType's default config lookup) and set only the variables.

``TRACESTORE_STORE``
    ``pkg.mod:StoreClass`` or an alias from ``tracestore.loading.STORE_ALIASES``
    (``sqlite``, ``lmdb``, ``postgres``, ``mysql``, ``redis``, ``memory``); default ``sqlite``.
``TRACESTORE_CONNECTION``
    the connection string handed to the class's ``make_store``.  When unset:
    ``sqlite`` uses ``MT_DB_PATH``, else ``monkeytype.sqlite3`` (MonkeyType's own
    default, so an existing file keeps working); ``lmdb`` uses ``monkeytype.lmdb``;
    ``memory`` a private store (useful only within one process); any other store
    needs it set, and a clear ``StoreConfigError`` says so.

Everything else (code filter, type rewriter, ...) is MonkeyType's ``DefaultConfig``.
"""

from __future__ import annotations

import os
import threading
from typing import Dict, Mapping, Optional

from monkeytype.config import DefaultConfig
from monkeytype.db.base import CallTraceStore

from tracestore.errors import StoreConfigError
from tracestore.loading import open_store
from tracestore.monkeytype import as_monkeytype_store

__all__ = ["CONFIG", "CONNECTION_VAR", "STORE_VAR", "TraceStoreConfig", "store_spec_from_env"]

STORE_VAR = "TRACESTORE_STORE"
CONNECTION_VAR = "TRACESTORE_CONNECTION"
DEFAULT_STORE = "sqlite"


def _default_connections(environ: Mapping[str, str]) -> Dict[str, str]:
    return {
        "sqlite": environ.get(DefaultConfig.DB_PATH_VAR, "monkeytype.sqlite3"),
        "lmdb": "monkeytype.lmdb",
        "memory": "",
    }


def store_spec_from_env(environ: Optional[Mapping[str, str]] = None) -> str:
    """The ``STORE=CONNECTION`` spec that the environment names (see the module docstring)."""
    env = os.environ if environ is None else environ
    store = env.get(STORE_VAR, "").strip() or DEFAULT_STORE
    connection = env.get(CONNECTION_VAR)
    if connection is None:
        connection = _default_connections(env).get(store)
    if connection is None:
        defaults = ", ".join(_default_connections(env))
        raise StoreConfigError(
            f"{STORE_VAR}={store!r} needs a connection string: set {CONNECTION_VAR} "
            f"(only {defaults} have a default)"
        )
    return f"{store}={connection}"


class TraceStoreConfig(DefaultConfig):
    """MonkeyType's ``DefaultConfig``, with the trace store named by ``TRACESTORE_*`` variables.

    The store is opened once per spec and reused, so ``monkeytype stub --diff`` (which
    asks twice) does not open an LMDB environment twice in one process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stores: Dict[str, CallTraceStore] = {}

    def trace_store(self) -> CallTraceStore:
        spec = store_spec_from_env()
        with self._lock:
            store = self._stores.get(spec)
            if store is None:
                store = as_monkeytype_store(open_store(spec))
                self._stores[spec] = store
            return store


CONFIG = TraceStoreConfig()
