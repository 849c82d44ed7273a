"""How ``MySQLStore`` lays rows out: names as UTF-8 bytes, digests, batches and prefix ranges.

Every text field is stored as its UTF-8 bytes (lone surrogates through ``surrogatepass``)
in a binary column, compared byte by byte with no padding and no collation: equality is
``str`` equality (S2), and as UTF-8 is prefix-free per character and byte order is code
point order, ``encode(s).startswith(encode(p)) == s.startswith(p)`` (S3).
"""

from __future__ import annotations

import hashlib
from typing import Dict, Iterable, List, Optional, Tuple

from tracestore import CallTraceRow

#: (trace_key, module_key, module, qualname, arg_types, return_type, yield_type)
StoredRow = Tuple[bytes, bytes, bytes, bytes, bytes, Optional[bytes], Optional[bytes]]
Fields = Tuple[bytes, bytes, bytes, Optional[bytes], Optional[bytes]]


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def decode(data: bytes) -> str:
    return bytes(data).decode("utf-8", "surrogatepass")


def module_key(module: bytes) -> bytes:
    """A 128-bit digest of a module name: the indexed stand-in for a name of any length."""
    return hashlib.blake2b(module, digest_size=16, person=b"ts-module").digest()


def trace_key(fields: Fields) -> bytes:
    """A 128-bit digest of the five fields, each length-prefixed (``None`` apart): S6's unique key."""
    digest = hashlib.blake2b(digest_size=16, person=b"ts-trace")
    for field in fields:
        if field is None:
            digest.update(b"N")
        else:
            digest.update(b"S" + len(field).to_bytes(8, "big"))
            digest.update(field)
    return digest.digest()


def make_batch(rows: Iterable[CallTraceRow]) -> List[StoredRow]:
    """Stored columns of ``rows``, each distinct row once at the place of its last occurrence."""
    latest: Dict[Fields, None] = {}
    for row in rows:
        fields = (
            encode(row.module),
            encode(row.qualname),
            encode(row.arg_types),
            None if row.return_type is None else encode(row.return_type),
            None if row.yield_type is None else encode(row.yield_type),
        )
        latest.pop(fields, None)
        latest[fields] = None
    keys: Dict[bytes, bytes] = {}
    stored: List[StoredRow] = []
    for fields in latest:
        module = fields[0]
        key = keys.get(module)
        if key is None:
            key = keys[module] = module_key(module)
        stored.append((trace_key(fields), key, *fields))
    return stored


def row_size(row: StoredRow) -> int:
    """Bytes the row's values take in a statement, before escaping."""
    return sum(len(value) for value in row if value is not None)


def prefix_upper_bound(prefix: bytes) -> bytes:
    """The least byte string above every string that starts with ``prefix`` (non-empty UTF-8).

    UTF-8 never holds the byte 0xFF, so incrementing the last byte always works.
    """
    assert prefix and prefix[-1] != 0xFF
    return prefix[:-1] + bytes([prefix[-1] + 1])


def to_row(module: str, found: Tuple[bytes, bytes, Optional[bytes], Optional[bytes]]) -> CallTraceRow:
    qualname, arg_types, return_type, yield_type = found
    return CallTraceRow(
        module,
        decode(qualname),
        decode(arg_types),
        None if return_type is None else decode(return_type),
        None if yield_type is None else decode(yield_type),
    )
