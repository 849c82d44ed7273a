"""Parse a ``PostgresStore`` connection string into libpq parameters and a table name (S14)."""

from __future__ import annotations

import re
from typing import Callable, Dict, List, NamedTuple, Tuple
from urllib.parse import unquote_plus

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tracestore import StoreConfigError

SCHEMA_PARAM = "tracestore_schema"
TABLE_PARAM = "tracestore_table"
READ_ONLY_PARAM = "tracestore_readonly"
DEFAULT_SCHEMA = "tracestore"
DEFAULT_TABLE = "call_traces"
URL_FORM = "postgresql://[user[:password]@][host][:port][/dbname][?tracestore_schema=NAME&...]"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
READ_ONLY_OPTION = "-c default_transaction_read_only=on"  # every transaction of the session

# Applied unless the connection string sets them: fail fast, notice a dead peer, never wait forever.
DEFAULT_PARAMS: Dict[str, str] = {
    "connect_timeout": "5",
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    "tcp_user_timeout": "30000",  # ms: sent data unacknowledged this long means the peer is gone
    "application_name": "tracestore",
}
DEFAULT_STATEMENT_TIMEOUT_MS = 120_000

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MAX_SCHEMA = 63  # PostgreSQL truncates longer names silently
_MAX_TABLE = 40  # leaves room for the "_module_qualname_seq" suffix of index names
_USERINFO_PASSWORD = re.compile(r"(://[^:@/?#]*:)[^@/?#]*@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)

_Fail = Callable[[str], StoreConfigError]  # builds the error that names the connection string


class PostgresConfig(NamedTuple):
    """Where a store lives: libpq parameters plus the schema and table of its traces."""

    conninfo: str
    schema: str
    table: str
    display: str  # the connection string with any password masked, for messages
    read_only: bool = False  # tracestore_readonly=true: every transaction is READ ONLY


def mask_password(connection_string: str) -> str:
    """The connection string with the password (in the user info or a query parameter) as ``***``."""
    masked = _USERINFO_PASSWORD.sub(r"\1***@", connection_string)
    return _QUERY_PASSWORD.sub(r"\1***", masked)


def parse_connection_string(connection_string: str) -> PostgresConfig:
    """Split off the ``tracestore_*`` query parameters and validate everything; else ``StoreConfigError``."""
    if not isinstance(connection_string, str):
        raise StoreConfigError(f"connection string must be a str, not {type(connection_string).__name__}")
    display = mask_password(connection_string)

    def fail(why: str) -> StoreConfigError:
        return StoreConfigError(f"PostgresStore connection string {display!r}: {why}")

    if not connection_string.startswith(("postgresql://", "postgres://")):
        raise fail(f"not a PostgreSQL URL (expected {URL_FORM})")
    url, ours = _split_our_params(connection_string, fail)
    unknown = sorted(set(ours) - {SCHEMA_PARAM, TABLE_PARAM, READ_ONLY_PARAM})
    if unknown:
        raise fail(
            f"unknown parameter {unknown[0]!r} (known: {SCHEMA_PARAM}, {TABLE_PARAM}, {READ_ONLY_PARAM})"
        )
    read_only = _flag(ours.get(READ_ONLY_PARAM, "false"), fail)
    schema = _identifier(ours.get(SCHEMA_PARAM, DEFAULT_SCHEMA), SCHEMA_PARAM, _MAX_SCHEMA, fail)
    table = _identifier(ours.get(TABLE_PARAM, DEFAULT_TABLE), TABLE_PARAM, _MAX_TABLE, fail)
    try:
        params = conninfo_to_dict(url)
    except ProgrammingError as exc:
        raise fail(f"not a valid libpq URL: {exc}") from None
    conninfo = make_conninfo("", **_with_defaults({k: str(v) for k, v in params.items()}, read_only))
    return PostgresConfig(conninfo, schema, table, display, read_only)


def read_only_connection_string(connection_string: str) -> str:
    """``connection_string`` with ``tracestore_readonly=true`` added (unless it sets it)."""
    query = connection_string.partition("?")[2]
    if any(unquote_plus(part.partition("=")[0]) == READ_ONLY_PARAM for part in query.split("&")):
        return connection_string
    return connection_string + ("&" if "?" in connection_string else "?") + READ_ONLY_PARAM + "=true"


def _flag(value: str, fail: _Fail) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise fail(f"{READ_ONLY_PARAM} must be true or false, not {value!r}")


def _split_our_params(connection_string: str, fail: _Fail) -> Tuple[str, Dict[str, str]]:
    """Remove ``tracestore_*`` parameters from the query, keeping the rest of the text exactly."""
    base, sep, query = connection_string.partition("?")
    if not sep:
        return connection_string, {}
    kept: List[str] = []
    ours: Dict[str, str] = {}
    for part in query.split("&"):
        key, _, value = part.partition("=")
        key = unquote_plus(key)
        if not key.startswith("tracestore_"):
            kept.append(part)
        elif key in ours:
            raise fail(f"{key} is given twice")
        else:
            ours[key] = unquote_plus(value)
    return (base + "?" + "&".join(kept)) if kept else base, ours


def _identifier(name: str, param: str, max_length: int, fail: _Fail) -> str:
    if not _IDENTIFIER.match(name) or len(name) > max_length:
        raise fail(
            f"{param}={name!r} is not a valid name (ASCII letters, digits and underscores, "
            f"not starting with a digit, at most {max_length} characters)"
        )
    if name.lower().startswith("pg_"):
        raise fail(f"{param}={name!r}: names starting with 'pg_' are reserved by PostgreSQL")
    return name


def _with_defaults(params: Dict[str, str], read_only: bool) -> Dict[str, str]:
    merged = {**DEFAULT_PARAMS, **params}
    # Our statement_timeout goes first so that an "-c statement_timeout=..." in the URL's options wins.
    ours = f"-c statement_timeout={DEFAULT_STATEMENT_TIMEOUT_MS}"
    if read_only:  # last, so that the URL's options cannot turn it off
        return {**merged, "options": " ".join(filter(None, [ours, params.get("options"), READ_ONLY_OPTION]))}
    merged["options"] = f"{ours} {params['options']}" if params.get("options") else ours
    return merged
