"""Byte layouts of ``LMDBStore``'s keys and values (the layout is explained in ``lmdb.store``).

Text is UTF-8 with ``surrogatepass``, so every ``str`` has bytes, and a byte prefix
of those bytes is exactly a ``str.startswith`` prefix (UTF-8 is prefix-free per code
point, and its byte order is code-point order). Ids and sequence numbers are
big-endian, so byte order is numeric order.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Optional, Tuple

RowTuple = Tuple[str, str, str, Optional[str], Optional[str]]
# A row's keys: (rows key = module id + 4 text ids, module id, the 4 text ids, module id + qualname id).
RowKeys = Tuple[bytes, bytes, bytes, bytes]

ID = struct.Struct(">I")
SEQ = struct.Struct(">Q")
# A row, as ids: qualname, arg_types, return_type, yield_type (0 for None).
ROW_IDS = struct.Struct(">IIII")
NONE_ID = 0
MAX_ID = 2**32 - 1
ID_SIZE = ID.size
SEQ_SIZE = SEQ.size
NAME_KEY_MAX = 400
DIGEST_SIZE = 16
MAX_PROBES = 64
# Sorts after every key that starts with a given prefix and has at most id + seq bytes after it.
AFTER_PREFIX = b"\xff" * (ID_SIZE + SEQ_SIZE + 1)


def text_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def bytes_text(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


def name_key(name: bytes, probe: int = 0) -> bytes:
    """The key of a name or text: itself when at most ``NAME_KEY_MAX`` bytes long.

    A longer one is keyed by its first ``NAME_KEY_MAX`` bytes (so keys keep the
    names' order for prefix scans), a digest, and for ``probe > 0`` a probe byte
    (used only if two long names ever share both). Short and long keys differ in
    length, so they never collide; the full name is always kept in the value and
    compared exactly.
    """
    if len(name) <= NAME_KEY_MAX:
        return name
    key = name[:NAME_KEY_MAX] + hashlib.blake2b(name, digest_size=DIGEST_SIZE).digest()
    return key + bytes((probe,)) if probe else key


def is_short_name(name: bytes) -> bool:
    return len(name) <= NAME_KEY_MAX
