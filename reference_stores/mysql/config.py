"""Parse a ``MySQLStore`` connection string into driver parameters and a table name (S14)."""

from __future__ import annotations

import re
from typing import Callable, Dict, NamedTuple, Optional
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from tracestore import StoreConfigError

URL_FORM = "mysql://user[:password]@host[:port]/db[?table=NAME&pool_size=N&connect_timeout=S&timeout=S]"
DEFAULT_TABLE = "call_traces"
DEFAULT_PORT = 3306
DEFAULT_POOL_SIZE = 4
MAX_POOL_SIZE = 64
DEFAULT_CONNECT_TIMEOUT = 5  # seconds to open a connection: fail fast on a wrong host or port
DEFAULT_TIMEOUT = 120  # seconds a read or write on the socket may take before the call fails

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MAX_TABLE = 64  # MySQL's limit on identifiers
_SCHEMES = ("mysql", "mariadb")
_PARAMS = ("table", "pool_size", "connect_timeout", "timeout")
_USERINFO_PASSWORD = re.compile(r"(://[^:@/?#]*:)[^@/?#]*@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)

_Fail = Callable[[str], StoreConfigError]


class MySQLConfig(NamedTuple):
    """Where a store lives: the server, the database and the table of its traces."""

    host: str
    port: int
    user: Optional[str]
    password: Optional[str]
    database: str
    table: str
    pool_size: int
    connect_timeout: int
    timeout: int
    display: str  # the connection string with any password masked, for messages

    def __repr__(self) -> str:  # never show the password
        return f"MySQLConfig({self.display!r})"


def mask_password(connection_string: str) -> str:
    """The connection string with the password (in the user info or a query parameter) as ``***``."""
    masked = _USERINFO_PASSWORD.sub(r"\1***@", connection_string)
    return _QUERY_PASSWORD.sub(r"\1***", masked)


def parse_connection_string(connection_string: str) -> MySQLConfig:
    """Validate every part of a ``mysql://`` URL; else ``StoreConfigError`` naming it and why."""
    if not isinstance(connection_string, str):
        raise StoreConfigError(f"connection string must be a str, not {type(connection_string).__name__}")
    display = mask_password(connection_string)

    def fail(why: str) -> StoreConfigError:
        return StoreConfigError(f"MySQLStore connection string {display!r}: {why}")

    if not connection_string.startswith(tuple(f"{scheme}://" for scheme in _SCHEMES)):
        raise fail(f"not a MySQL URL (expected {URL_FORM})")
    try:
        url = urlsplit(connection_string)
        port = url.port
    except ValueError as exc:
        raise fail(f"not a valid URL: {exc}") from None
    if not url.hostname:
        raise fail(f"no host (expected {URL_FORM})")
    database = unquote(url.path[1:]) if url.path.startswith("/") else ""
    if not database or "/" in database:
        raise fail(f"no database name after the host (expected {URL_FORM})")
    if url.fragment:
        raise fail("a URL fragment ('#...') means nothing here")
    params = _params(url, fail)
    return MySQLConfig(
        host=url.hostname,
        port=DEFAULT_PORT if port is None else port,
        user=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password is not None else None,
        database=database,
        table=_table(params.get("table", DEFAULT_TABLE), fail),
        pool_size=_integer(params, "pool_size", DEFAULT_POOL_SIZE, MAX_POOL_SIZE, fail),
        connect_timeout=_integer(params, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, 3600, fail),
        timeout=_integer(params, "timeout", DEFAULT_TIMEOUT, 86400, fail),
        display=display,
    )


def _params(url: SplitResult, fail: _Fail) -> Dict[str, str]:
    found: Dict[str, str] = {}
    for key, value in parse_qsl(url.query, keep_blank_values=True):
        if key not in _PARAMS:
            raise fail(f"unknown parameter {key!r} (known: {', '.join(_PARAMS)})")
        if key in found:
            raise fail(f"{key} is given twice")
        found[key] = value
    return found


def _table(name: str, fail: _Fail) -> str:
    if not _IDENTIFIER.match(name) or len(name) > _MAX_TABLE:
        raise fail(
            f"table={name!r} is not a valid name (ASCII letters, digits and underscores, "
            f"not starting with a digit, at most {_MAX_TABLE} characters)"
        )
    return name


def _integer(params: Dict[str, str], key: str, default: int, maximum: int, fail: _Fail) -> int:
    text = params.get(key)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= maximum:
        raise fail(f"{key}={text!r} is not a whole number from 1 to {maximum}")
    return int(text)
