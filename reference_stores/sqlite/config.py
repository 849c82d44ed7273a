"""Parse a ``SQLiteStore`` connection string into what ``sqlite3.connect`` needs (rule S14).

Forms (see ``SQLiteStore``): ``PATH``, ``PATH?table=NAME&timeout=SECONDS&synchronous=MODE&mode=ro``,
``:memory:`` (with the same optional parameters) and SQLite URIs ``file:PATH?...``, whose
SQLite parameters (``mode``, ``cache``, ``vfs``, ``immutable``, ...) pass through untouched.
``mode=ro`` (either form) opens the file read-only: it must exist, and nothing writes to it.
"""

from __future__ import annotations

import os
import re
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple
from urllib.parse import parse_qsl, quote, unquote

from tracestore import StoreConfigError

DEFAULT_TABLE = "monkeytype_call_traces"  # MonkeyType's own table name
DEFAULT_TIMEOUT = 60.0
DEFAULT_SYNCHRONOUS = "NORMAL"
SYNCHRONOUS_MODES = ("NORMAL", "FULL", "EXTRA")
OUR_PARAMS = ("table", "timeout", "synchronous", "mode")  # mode: plain form only, "ro"
READ_ONLY_MODE = "ro"
MEMORY = ":memory:"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MAX_TABLE = 64

_Fail = Callable[[str], StoreConfigError]


class SQLiteConfig(NamedTuple):
    """Where a store lives and how to open it."""

    database: str  # what sqlite3.connect gets
    uri: bool  # whether ``database`` is a SQLite URI
    path: Optional[str]  # the file on disk, None for an in-memory database
    table: str
    timeout: float  # seconds to wait for a lock, and to keep retrying a busy database
    synchronous: str
    display: str  # the connection string, for messages
    read_only: bool = False  # mode=ro: SQLite opens the file read-only, the store never writes


def parse_connection_string(connection_string: str) -> SQLiteConfig:
    """Validate ``connection_string``, touching no file; else ``StoreConfigError``."""
    if not isinstance(connection_string, str):
        raise TypeError(f"connection string must be a str, not {type(connection_string).__name__}")

    def fail(why: str) -> StoreConfigError:
        return StoreConfigError(f"SQLiteStore connection string {connection_string!r}: {why}")

    if not connection_string:
        raise fail(f"empty; give a file path, or {MEMORY!r} for a private in-memory store")
    if connection_string.startswith("file:"):
        database, ours, path, sqlite_mode = _split_uri(connection_string, fail)
        uri = True
        read_only = sqlite_mode == READ_ONLY_MODE
    else:
        head, _, query = connection_string.partition("?")
        ours = _our_params(query, fail, allow_others=False)[0]
        database, uri = head, False
        path = None if head == MEMORY else head
        if not head:
            raise fail("no file path before '?'")
        read_only = _read_only(ours.get("mode"), fail)
        if read_only:
            if path is None:
                raise fail("mode=ro needs a file: a private in-memory store cannot be read-only")
            if not os.path.isfile(head):
                raise fail(f"mode=ro opens an existing file read-only, and {head!r} is not one")
            database, uri = file_uri(head, READ_ONLY_MODE), True
    table = ours.get("table", DEFAULT_TABLE)
    if not _IDENTIFIER.match(table) or len(table) > _MAX_TABLE or table.lower().startswith("sqlite_"):
        raise fail(
            f"bad table name {table!r}: use letters, digits and '_' (not first a digit), "
            f"at most {_MAX_TABLE} characters, not starting with 'sqlite_'"
        )
    timeout = _timeout(ours.get("timeout"), fail)
    synchronous = ours.get("synchronous", DEFAULT_SYNCHRONOUS).upper()
    if synchronous not in SYNCHRONOUS_MODES:
        raise fail(f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}, not {ours['synchronous']!r}")
    if path is not None:
        _check_path(path, fail)
    return SQLiteConfig(database, uri, path, table, timeout, synchronous, connection_string, read_only)


def read_only_connection_string(connection_string: str) -> str:
    """``connection_string`` with ``mode=ro`` added (unless it has a mode already)."""
    head, _, query = connection_string.partition("?")
    if any(piece.partition("=")[0] == "mode" for piece in query.split("&")):
        return connection_string
    return head + "?" + (query + "&" if query else "") + "mode=" + READ_ONLY_MODE


def file_uri(path: str, mode: str) -> str:
    """A SQLite URI for the file ``path`` opened in ``mode`` (``ro``, ``rw``, ``rwc``)."""
    return "file:" + quote(os.path.abspath(path)) + "?mode=" + mode


def _read_only(mode: Optional[str], fail: _Fail) -> bool:
    if mode is None:
        return False
    if mode != READ_ONLY_MODE:
        raise fail(f"mode must be {READ_ONLY_MODE!r} (read-only) if given, not {mode!r}")
    return True


def _our_params(query: str, fail: _Fail, allow_others: bool) -> Tuple[Dict[str, str], List[str]]:
    """Our parameters, and the untouched ``key=value`` pieces of the others."""
    ours: Dict[str, str] = {}
    others: List[str] = []
    for piece in query.split("&") if query else []:
        try:
            pairs = parse_qsl(piece, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise fail(f"cannot parse the parameter {piece!r} (expected name=value)") from None
        for key, value in pairs:
            if key in OUR_PARAMS and not (allow_others and key == "mode"):  # a URI's mode is SQLite's
                if key in ours:
                    raise fail(f"parameter {key!r} given twice")
                ours[key] = value
            elif allow_others:
                others.append(piece)
            else:
                raise fail(
                    f"unknown parameter {key!r} (known: {', '.join(OUR_PARAMS)}; "
                    "SQLite's own URI parameters need the file: form)"
                )
    return ours, others


def _split_uri(uri: str, fail: _Fail) -> Tuple[str, Dict[str, str], Optional[str], Optional[str]]:
    """The URI without our parameters, our parameters, the file path (None if in memory), SQLite's mode."""
    body, _, fragment = uri.partition("#")
    location, _, query = body.partition("?")
    ours, others = _our_params(query, fail, allow_others=True)
    database = location + ("?" + "&".join(others) if others else "") + ("#" + fragment if fragment else "")
    sqlite_params = dict(parse_qsl("&".join(others), keep_blank_values=True))
    path = location[len("file:") :]
    if path.startswith("//"):
        authority, slash, rest = path[2:].partition("/")
        if authority not in ("", "localhost"):
            raise fail(f"SQLite URIs name a local file; authority {authority!r} is not allowed")
        path = slash + rest
    path = unquote(path)
    mode = sqlite_params.get("mode")
    if path in ("", MEMORY) or mode == "memory":
        return database, ours, None, mode
    return database, ours, path, mode


def _timeout(text: Optional[str], fail: _Fail) -> float:
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        raise fail(f"timeout must be a number of seconds, not {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise fail(f"timeout must be a finite number of seconds >= 0, not {text!r}")
    return value


def _check_path(path: str, fail: _Fail) -> None:
    if "\x00" in path:
        raise fail("the path contains a NUL character")
    if os.path.isdir(path):
        raise fail(
            f"{path!r} is a directory; name a file in it, e.g. {os.path.join(path, 'traces.sqlite3')!r}"
        )
    if os.path.exists(path):
        if not os.path.isfile(path):
            raise fail(f"{path!r} is not a regular file")
        return
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise fail(f"the directory {parent!r} does not exist")
