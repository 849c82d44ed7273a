"""Import every public name the contract lists, from an installed wheel (run outside the checkout)."""

from __future__ import annotations

import importlib
import pathlib
import sys

PUBLIC_NAMES = {
    "tracestore": ["CallTrace", "CallTraceThunk", "CallTraceStore", "CallTraceRow", "serialize_traces"],
    "tracestore.encoding": ["CallTraceRow", "serialize_traces"],
    "conformance": ["CallTraceStoreTests"],
    "reference_stores.memory": ["InMemoryStore"],
    "reference_stores.sqlite": ["SQLiteStore"],
    "reference_stores.lmdb": ["LMDBStore"],
    "reference_stores.postgres": ["PostgresStore"],
}

checkout = pathlib.Path(__file__).resolve().parent.parent
for module_name, names in PUBLIC_NAMES.items():
    module = importlib.import_module(module_name)
    where = pathlib.Path(str(module.__file__)).resolve()
    if checkout in where.parents:
        sys.exit(f"{module_name} was imported from the checkout ({where}), not from the wheel")
    for name in names:
        getattr(module, name)
    print(f"ok {module_name}: {', '.join(names)}")
