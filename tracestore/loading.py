"""Find a store class by import path, and open a store from a ``STORE=CONNECTION`` spec.

A *store spec* names a class and a connection string: ``"pkg.mod:Class=CONNECTION"``,
split at the first ``=`` (so the connection string may hold ``=`` itself), or
``"ALIAS=CONNECTION"`` with an alias from ``STORE_ALIASES``.  Every failure raises a
``StoreConfigError`` that says which part failed and why.  Nothing here imports a store
module until it is asked for one.
"""

from __future__ import annotations

import importlib
from typing import Any, Dict, Iterable, List, Optional, Protocol, Sequence, Tuple, cast

from tracestore.errors import StoreConfigError

__all__ = [
    "STORE_ALIASES",
    "StoreLike",
    "ThunkLike",
    "load_store_class",
    "open_store",
    "parse_store_spec",
    "resolve_store_path",
]

STORE_ALIASES: Dict[str, str] = {
    "memory": "reference_stores.memory:InMemoryStore",
    "sqlite": "reference_stores.sqlite:SQLiteStore",
    "lmdb": "reference_stores.lmdb:LMDBStore",
    "postgres": "reference_stores.postgres:PostgresStore",
    "mysql": "reference_stores.mysql:MySQLStore",
    "redis": "reference_stores.redis:RedisStore",
    "monkeytype": "reference_stores.sqlite:MonkeyTypeFileStore",  # MonkeyType's plain file format
}
"""Short names for the reference stores, as import paths (imported only when used)."""

SPEC_FORM = "pkg.module:StoreClass=CONNECTION (or ALIAS=CONNECTION, ALIAS one of: {})".format(
    ", ".join(STORE_ALIASES)
)
_STORE_METHODS = ("make_store", "add", "filter")


class ThunkLike(Protocol):
    """What ``filter`` returns: anything with ``to_trace()``."""

    def to_trace(self) -> Any: ...


class StoreLike(Protocol):
    """Any call-trace store: a ``tracestore.CallTraceStore``, a MonkeyType one, or a duck."""

    def add(self, traces: Iterable[Any]) -> None: ...

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> Sequence[ThunkLike]: ...

    def list_modules(self) -> List[str]: ...


def resolve_store_path(name: str) -> str:
    """``name`` itself, or the import path that the alias ``name`` stands for."""
    return STORE_ALIASES.get(name, name)


def load_store_class(path: str) -> type:
    """The class that ``"pkg.mod:Class"`` (or an alias) names; ``Class`` may be dotted.

    Raises ``StoreConfigError`` for a malformed path, a module that is not found or
    fails to import, a missing attribute, or an object that is not a store class
    (a class with ``make_store``, ``add`` and ``filter``).
    """
    full = resolve_store_path(path)
    shown = full if full == path else f"{path} ({full})"
    module_name, sep, qualname = full.partition(":")
    if not sep or not module_name or not qualname:
        raise StoreConfigError(
            f"{path!r} is not a store class: expected pkg.module:StoreClass or one of "
            f"the aliases {', '.join(STORE_ALIASES)}"
        )
    obj: Any = _import_module(module_name, shown)
    walked: List[str] = []
    for part in qualname.split("."):
        walked.append(part)
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise StoreConfigError(
                f"{shown}: module {module_name!r} has no attribute {'.'.join(walked)!r}"
            ) from None
    if not isinstance(obj, type):
        raise StoreConfigError(f"{shown} is not a store class: it is a {type(obj).__name__}, not a class")
    missing = [name for name in _STORE_METHODS if not callable(getattr(obj, name, None))]
    if missing:
        raise StoreConfigError(f"{shown} is not a store class: it has no {', '.join(missing)}")
    return obj


def parse_store_spec(spec: str) -> Tuple[str, str]:
    """Split ``"STORE=CONNECTION"`` at the first ``=``; raises ``StoreConfigError``."""
    if not isinstance(spec, str):
        raise StoreConfigError(f"a store spec must be a str, not {type(spec).__name__}")
    store, sep, connection = spec.partition("=")
    if not sep or not store:
        raise StoreConfigError(f"{spec!r} is not a store spec: expected {SPEC_FORM}")
    return store, connection


def open_store(spec: str) -> StoreLike:
    """Open the store that ``spec`` (``"pkg.mod:Class=CONNECTION"`` or ``"ALIAS=CONNECTION"``) names.

    A ``StoreConfigError`` from ``make_store`` (S14) is re-raised with the spec's class
    prefixed; other exceptions from ``make_store`` propagate unchanged.
    """
    path, connection = parse_store_spec(spec)
    cls = load_store_class(path)
    try:
        store: StoreLike = cast(Any, cls).make_store(connection)
    except StoreConfigError as exc:
        raise StoreConfigError(f"{path}: {exc}") from exc
    return store


def _import_module(name: str, shown: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or name
        if name == missing or name.startswith(missing + "."):
            raise StoreConfigError(f"{shown}: module {missing!r} not found") from None
        raise StoreConfigError(f"{shown}: importing module {name!r} failed: {exc}") from exc
    except Exception as exc:
        raise StoreConfigError(
            f"{shown}: importing module {name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
