"""Parse an ``LMDBStore`` connection string: ``PATH`` or ``PATH?option=value&...``.

The options are documented on ``reference_stores.lmdb.LMDBStore``. Anything that
cannot be understood raises ``tracestore.StoreConfigError`` naming the string (S14).
"""

from __future__ import annotations

from typing import Dict, NamedTuple

from tracestore import StoreConfigError

DEFAULT_MAP_SIZE = 64 * 1024 * 1024
MIN_MAP_SIZE = 64 * 1024
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_OPTIONS = ("map_size", "subdir", "sync", "readonly")


class LMDBOptions(NamedTuple):
    """What a connection string asks for."""

    path: str
    map_size: int = DEFAULT_MAP_SIZE
    subdir: bool = True
    sync: bool = True
    readonly: bool = False


def parse_connection_string(connection_string: str) -> LMDBOptions:
    """Split ``connection_string`` into a path and checked options."""
    if not isinstance(connection_string, str):
        raise TypeError(f"connection_string must be a str, not {type(connection_string).__name__}")
    path, _, query = (
        connection_string.rpartition("?") if "?" in connection_string else (connection_string, "", "")
    )
    if not path:
        raise StoreConfigError(f"LMDB connection string {connection_string!r} names no path")
    if "\0" in path:
        raise StoreConfigError(
            f"LMDB connection string {connection_string!r}: the path contains a NUL character"
        )
    raw = _split_options(connection_string, query)
    options = LMDBOptions(path)
    if "map_size" in raw:
        options = options._replace(map_size=_map_size(connection_string, raw["map_size"]))
    if "subdir" in raw:
        options = options._replace(subdir=_flag(connection_string, "subdir", raw["subdir"]))
    if "sync" in raw:
        options = options._replace(sync=_flag(connection_string, "sync", raw["sync"]))
    if "readonly" in raw:
        options = options._replace(readonly=_flag(connection_string, "readonly", raw["readonly"]))
    return options


def read_only_connection_string(connection_string: str) -> str:
    """``connection_string`` with ``readonly=true`` added (unless it sets ``readonly``)."""
    if "?" not in connection_string:
        return connection_string + "?readonly=true"
    query = connection_string.rpartition("?")[2]
    if any(part.partition("=")[0] == "readonly" for part in query.split("&")):
        return connection_string
    return connection_string + ("&" if query else "") + "readonly=true"


def _split_options(connection_string: str, query: str) -> Dict[str, str]:
    found: Dict[str, str] = {}
    for part in query.split("&") if query else ():
        name, sep, value = part.partition("=")
        if not sep or not name:
            raise StoreConfigError(
                f"LMDB connection string {connection_string!r}: option {part!r} is not NAME=VALUE"
                " (a path containing '?' must end with '?', then the options)"
            )
        if name not in _OPTIONS:
            raise StoreConfigError(
                f"LMDB connection string {connection_string!r}: unknown option {name!r}"
                f" (known: {', '.join(_OPTIONS)})"
            )
        if name in found:
            raise StoreConfigError(
                f"LMDB connection string {connection_string!r}: option {name!r} given twice"
            )
        found[name] = value
    return found


def _map_size(connection_string: str, value: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) < MIN_MAP_SIZE:
        raise StoreConfigError(
            f"LMDB connection string {connection_string!r}: map_size must be a whole number of bytes"
            f" >= {MIN_MAP_SIZE}, not {value!r}"
        )
    return int(value)


def _flag(connection_string: str, name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise StoreConfigError(
        f"LMDB connection string {connection_string!r}: {name} must be true or false, not {value!r}"
    )
