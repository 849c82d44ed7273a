"""Parse a ``RedisStore`` connection string into server settings and a key prefix (S14)."""

from __future__ import annotations

import re
from typing import Callable, Dict, NamedTuple, Optional
from urllib.parse import SplitResult, unquote, urlsplit

from tracestore import StoreConfigError

URL_FORM = "redis://[[user]:password@]host[:port][/db][?prefix=NAME&max_connections=N&timeout=SECONDS]"
DEFAULT_PREFIX = "tracestore"
DEFAULT_PORT = 6379
DEFAULT_MAX_CONNECTIONS = 8
DEFAULT_TIMEOUT = 30.0  # seconds for a connection, a reply, or a free pooled connection
_MAX_MAX_CONNECTIONS = 1000
_MAX_TIMEOUT = 3600.0
_PARAMS = ("prefix", "max_connections", "timeout", "client_name")

# No ':', '{', '}' or glob character: one store's keys can never begin with another store's.
_PREFIX = re.compile(r"[A-Za-z0-9_-]{1,100}\Z")
_Fail = Callable[[str], StoreConfigError]  # builds the error that names the connection string
_CLIENT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}\Z")
_USERINFO_PASSWORD = re.compile(r"(://[^:@/?#]*:)[^@/?#]*@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


class RedisConfig(NamedTuple):
    """Where a store lives: the server, its database, and the key prefix of its keys."""

    host: str
    port: int
    db: int
    username: Optional[str]
    password: Optional[str]
    ssl: bool
    prefix: str
    max_connections: int
    timeout: float
    client_name: Optional[str]
    display: str  # the connection string with any password masked, for messages


def mask_password(connection_string: str) -> str:
    """The connection string with the password (in the user info or a query parameter) as ``***``."""
    masked = _USERINFO_PASSWORD.sub(r"\1***@", connection_string)
    return _QUERY_PASSWORD.sub(r"\1***", masked)


def key_base(prefix: str) -> bytes:
    """The start of every key of the store with this prefix (a hash tag: one cluster slot)."""
    return f"tracestore:{{{prefix}}}:".encode()


def parse_connection_string(connection_string: str) -> RedisConfig:
    """Validate every part of the URL; else ``StoreConfigError`` naming the input and the reason."""
    if not isinstance(connection_string, str):
        raise StoreConfigError(f"connection string must be a str, not {type(connection_string).__name__}")
    display = mask_password(connection_string)

    def fail(why: str) -> StoreConfigError:
        return StoreConfigError(f"RedisStore connection string {display!r}: {why}")

    if not connection_string.startswith(("redis://", "rediss://")):
        raise fail(f"not a Redis URL (expected {URL_FORM})")
    try:
        url = urlsplit(connection_string)
        port = url.port or DEFAULT_PORT
    except ValueError as exc:
        raise fail(f"not a valid URL: {exc}") from None
    if url.fragment:
        raise fail("a Redis URL has no #fragment")
    if not url.hostname:
        raise fail("no host")
    params = _query(url, fail)
    prefix = params.get("prefix", DEFAULT_PREFIX)
    if not _PREFIX.match(prefix):
        raise fail(
            f"prefix={prefix!r} is not a valid name (1 to 100 ASCII letters, digits, '_' or '-'; "
            "no ':', braces or glob characters, so that no store can reach another's keys)"
        )
    client_name = params.get("client_name")
    if client_name is not None and not _CLIENT_NAME.match(client_name):
        raise fail(f"client_name={client_name!r} is not a valid name (letters, digits, '_', '.', '-')")
    return RedisConfig(
        host=url.hostname,
        port=port,
        db=_db(url.path, fail),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password is not None else None,
        ssl=url.scheme == "rediss",
        prefix=prefix,
        max_connections=int(
            _number(params, "max_connections", DEFAULT_MAX_CONNECTIONS, 1, _MAX_MAX_CONNECTIONS, fail, int)
        ),
        timeout=_number(params, "timeout", DEFAULT_TIMEOUT, 0.001, _MAX_TIMEOUT, fail, float),
        client_name=client_name,
        display=display,
    )


def _query(url: SplitResult, fail: _Fail) -> Dict[str, str]:
    params: Dict[str, str] = {}
    for part in url.query.split("&") if url.query else []:
        key, sep, value = part.partition("=")
        key = unquote(key)
        if key == "password":
            raise fail("put the password in the user info (redis://:PASSWORD@host), not the query")
        if key not in _PARAMS:
            raise fail(f"unknown parameter {key!r} (known: {', '.join(_PARAMS)})")
        if key in params:
            raise fail(f"{key} is given twice")
        if not sep:
            raise fail(f"{key} has no value")
        params[key] = unquote(value)
    return params


def _db(path: str, fail: _Fail) -> int:
    text = path[1:] if path.startswith("/") else path
    if text == "":
        return 0
    if not text.isdigit() or not text.isascii() or len(text) > 5:
        raise fail(f"database {text!r} is not a number (expected /0, /1, ...)")
    return int(text)


def _number(
    params: Dict[str, str],
    name: str,
    default: float,
    low: float,
    high: float,
    fail: _Fail,
    parse: Callable[[str], float],
) -> float:
    """The parameter ``name`` parsed by ``parse`` and checked to lie in ``[low, high]``."""
    text = params.get(name)
    if text is None:
        return default
    try:
        value = parse(text)
    except ValueError:
        raise fail(f"{name}={text!r} must be a number from {low:g} to {high:g}") from None
    if not low <= value <= high:  # also refuses nan
        raise fail(f"{name}={text!r} must be a number from {low:g} to {high:g}")
    return value
