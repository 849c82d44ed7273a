"""How ``RedisStore`` lays out keys and rows; every name is length-prefixed, so none can collide.

Keys of the store with prefix ``P`` (``B`` = ``tracestore:{P}:``; names are UTF-8, lone
surrogates kept with ``surrogatepass``, so NUL, ``:``, braces, astral characters are all fine)::

    B seq            string  the recency counter, INCRBY'd by each add (server side, never a clock)
    B rows           hash    digest -> row (JSON list of the five fields); one entry per distinct row
    B all            zset    digest -> recency, every row (iter_rows, oldest first)
    B mods           set     every module name (list_modules)
    B M: <m>         zset    digest -> recency, the rows of module m (filter without prefix)
    B Q: <m>         zset    the qualnames of module m, all at score 0 (ZRANGEBYLEX prefix ranges)
    B R: <m> <q>     zset    digest -> recency, the rows of (m, q) (merged newest first by filter)

where ``<m>`` is the byte length of the module's name, ``:``, then the name: self-delimiting,
so ``<m> <q>`` names one (module, qualname) pair only.
"""

from __future__ import annotations

import hashlib
import json
from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple

from tracestore import CallTraceRow, MalformedRowError

RowTuple = Tuple[str, str, str, Optional[str], Optional[str]]


def name_bytes(name: str) -> bytes:
    """A module or qualname as key bytes: UTF-8 (code point order), lone surrogates kept."""
    return name.encode("utf-8", "surrogatepass")


def module_part(module: str) -> bytes:
    """``<m>``: the length-prefixed module name, the self-delimiting part of its keys."""
    raw = name_bytes(module)
    return b"%d:%s" % (len(raw), raw)


def row_blob(fields: RowTuple) -> bytes:
    """A row's five fields as JSON (ASCII: NUL and surrogates escaped); equal rows, equal blobs."""
    return json.dumps(fields).encode("ascii")


def row_digest(blob: bytes) -> bytes:
    """The 128-bit digest that keys a row (S6: one entry per distinct row)."""
    return hashlib.blake2b(blob, digest_size=16).digest()


def rows_from_json(text: bytes) -> List[CallTraceRow]:
    """Rows from a JSON list of ``row_blob``s (what the scripts return); ``MalformedRowError``
    for a value this store never writes."""
    try:
        return [CallTraceRow(m, q, a, r, y) for m, q, a, r, y in json.loads(text)]
    except (ValueError, TypeError) as exc:
        raise MalformedRowError(f"RedisStore: stored rows {text[:80]!r}... are not rows: {exc}") from None


class Batch(NamedTuple):
    """One ``add`` as the Lua script's arguments: five per distinct row, oldest first."""

    rows: int
    args: List[bytes]


def make_batch(rows: Iterable[CallTraceRow]) -> Batch:
    """Script arguments for ``rows``, each distinct row once at the place of its last occurrence."""
    latest: Dict[RowTuple, None] = {}
    for row in rows:
        fields: RowTuple = (row.module, row.qualname, row.arg_types, row.return_type, row.yield_type)
        latest.pop(fields, None)
        latest[fields] = None
    args: List[bytes] = []
    for fields in latest:
        blob = row_blob(fields)
        args += (row_digest(blob), blob, name_bytes(fields[0]), module_part(fields[0]), name_bytes(fields[1]))
    return Batch(len(latest), args)
