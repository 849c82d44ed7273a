"""How ``PostgresStore`` lays rows out: text escaping, the dedupe key, batches of columns.

PostgreSQL ``text`` cannot hold NUL or lone surrogates, which Python names may contain
(MonkeyType's JSON never does, but every field goes through the same escape).
``escape`` maps each of those characters (and the escape character ``\\x01`` itself) to
``\\x01`` plus four hex digits. Every other character stands for itself, and the code
is prefix-free, so ``escape(s).startswith(escape(p)) == s.startswith(p)`` (S3) and
equality is kept (S2). Ordinary names are stored unchanged.
"""

from __future__ import annotations

import hashlib
import re
from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple

from tracestore import CallTraceRow

_UNSTORABLE = re.compile("[\x00\x01\ud800-\udfff]")
_ESCAPED = re.compile("\x01([0-9a-f]{4})")

_NULL = "\x01N"
RowTuple = Tuple[str, str, str, Optional[str], Optional[str]]


def escape(text: str) -> str:
    """``text`` as PostgreSQL can store it (see the module docstring)."""
    if text.isascii():  # O(1) in CPython; then only NUL and the escape character need a look
        if "\x00" not in text and "\x01" not in text:
            return text
    elif _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(lambda m: f"\x01{ord(m.group()):04x}", text)


def unescape(text: str) -> str:
    """The inverse of ``escape``."""
    if "\x01" not in text:
        return text
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def trace_key(fields: RowTuple) -> bytes:
    """A 128-bit digest of the five stored (escaped) fields: equal rows, equal keys (S6 dedupe).

    Escaped text holds no NUL, and ``\\x01`` in it is always followed by a hex digit, so
    NUL-separated fields with ``\\x01N`` for NULL encode no two different rows alike.
    """
    material = "\x00".join(_NULL if field is None else field for field in fields)
    return hashlib.blake2b(material.encode(), digest_size=16).digest()


class Batch(NamedTuple):
    """One ``add`` as parallel column lists, ready for ``unnest``; oldest first."""

    keys: List[bytes]
    modules: List[str]
    qualnames: List[str]
    arg_types: List[str]
    return_types: List[Optional[str]]
    yield_types: List[Optional[str]]


def make_batch(rows: Iterable[CallTraceRow]) -> Batch:
    """Stored columns of ``rows``, each distinct row once at the place of its last occurrence."""
    latest: Dict[RowTuple, None] = {}
    for row in rows:
        fields = (
            escape(row.module),
            escape(row.qualname),
            escape(row.arg_types),
            None if row.return_type is None else escape(row.return_type),
            None if row.yield_type is None else escape(row.yield_type),
        )
        latest.pop(fields, None)
        latest[fields] = None
    batch = Batch([], [], [], [], [], [])
    for fields in latest:
        batch.keys.append(trace_key(fields))
        batch.modules.append(fields[0])
        batch.qualnames.append(fields[1])
        batch.arg_types.append(fields[2])
        batch.return_types.append(fields[3])
        batch.yield_types.append(fields[4])
    return batch


def prefix_upper_bound(prefix: str) -> Optional[str]:
    """The least string above every string that starts with ``prefix``, in code point order.

    Used as an index range end under ``COLLATE "C"`` (UTF-8 byte order is code point
    order); ``None`` when there is none (a prefix of only U+10FFFF).
    """
    chars = list(prefix)
    while chars:
        code = ord(chars[-1])
        if code < 0x10FFFF:
            code += 1
            if 0xD800 <= code <= 0xDFFF:  # surrogates are never stored (escaped)
                code = 0xE000
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None
