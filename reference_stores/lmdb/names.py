"""Interned names and texts: modules, qualnames and JSON fields stored once, referred to by id.

Ids are allocated inside a write transaction and never change once committed, so
a process may remember them (``NameCache``) for as long as the environment is open.
A transaction's new ids are published to the cache only after it commits.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Set, Tuple

from reference_stores.lmdb.keys import (
    ID,
    ID_SIZE,
    MAX_ID,
    MAX_PROBES,
    NONE_ID,
    SEQ,
    RowKeys,
    RowTuple,
    bytes_text,
    is_short_name,
    name_key,
    text_bytes,
)
from reference_stores.lmdb.types import Dbs, Txn
from tracestore import TraceStoreError

# Keys of ``modules`` and ``text_ids`` start with this byte, so even "" has a non-empty key.
NAME_PREFIX = b"="
NEXT_MODULE_KEY = b"next_module"
NEXT_TEXT_KEY = b"next_text"
_CACHE_LIMIT = 65_536  # texts remembered: a workload repeats a few; a bulk copy must not keep them all
_ROW_CACHE_LIMIT = 50_000  # rows whose keys are remembered: the hot, repeated ones of a workload


class NameCache:
    """Committed ids of this environment, both ways; cleared if it ever grows past a bound."""

    def __init__(self) -> None:
        self.module_ids: Dict[str, int] = {}
        self.text_ids: Dict[str, int] = {}
        self.texts: Dict[int, str] = {}
        self.qualnames: Set[Tuple[bytes, int]] = set()  # (module key, qualname id) pairs indexed
        self.rows: Dict[RowTuple, RowKeys] = {}

    def remember_texts(self, texts: Dict[int, str]) -> None:
        if len(self.texts) + len(texts) > _CACHE_LIMIT:
            self.texts.clear()
        self.texts.update(texts)

    def publish(self, interner: Interner) -> None:
        if len(self.text_ids) + len(interner.text_ids) > _CACHE_LIMIT:
            self.module_ids.clear()
            self.text_ids.clear()
            self.qualnames.clear()
            self.rows.clear()
        self.module_ids.update(interner.module_ids)
        self.text_ids.update(interner.text_ids)
        self.qualnames.update(interner.qualnames)
        if len(self.rows) < _ROW_CACHE_LIMIT:
            self.rows.update(interner.rows)
        # Written texts are not remembered for reading: ``filter`` loads the ones it decodes,
        # newest rows first, so the texts of a module's newest rows sit together in memory.
        # Taken from writes instead, they would be scattered in the order first written, and
        # a filter of a table full of re-added traces was 1.3-1.6x slower than of a fresh one.


def lookup_name(txn: Txn, db: Any, prefix: bytes, name: bytes) -> Tuple[Optional[int], bytes]:
    """Find ``name`` in ``db`` (keys ``prefix + name_key(name)``, values ``id + name``).

    Returns ``(id, key)`` when found, else ``(None, the free key to store it under)``.
    A long name whose key is taken by another name probes on.
    """
    for probe in range(MAX_PROBES):
        key = prefix + name_key(name, probe)
        value = txn.get(key, db=db)
        if value is None:
            return None, key
        if value[ID_SIZE:] == name:
            return int(ID.unpack_from(value)[0]), key
        if is_short_name(name):
            break
    raise TraceStoreError(f"corrupt LMDB name index: no usable key for {name[:100]!r}")


def find_module_id(txn: Txn, dbs: Dbs, module: str) -> Optional[int]:
    """The id of ``module``, None when no trace of it was ever stored."""
    return lookup_name(txn, dbs.modules, NAME_PREFIX, text_bytes(module))[0]


class Interner:
    """Ids for one write transaction: from the cache, the environment, or newly allocated."""

    def __init__(self, txn: Txn, dbs: Dbs, cache: NameCache) -> None:
        self._txn = txn
        self._dbs = dbs
        self._cache = cache
        self.module_ids: Dict[str, int] = {}
        self.text_ids: Dict[str, int] = {}
        self.qualnames: Set[Tuple[bytes, int]] = set()
        self.rows: Dict[RowTuple, RowKeys] = {}

    def module_id(self, module: str) -> int:
        found = self._cache.module_ids.get(module) or self.module_ids.get(module)
        if found is None:
            found = self._intern(self._dbs.modules, NAME_PREFIX, text_bytes(module), NEXT_MODULE_KEY, None)
            self.module_ids[module] = found
        return found

    def text_id(self, text: Optional[str]) -> int:
        if text is None:
            return NONE_ID
        found = self._cache.text_ids.get(text) or self.text_ids.get(text)
        if found is None:
            found = self._intern(
                self._dbs.text_ids, NAME_PREFIX, text_bytes(text), NEXT_TEXT_KEY, self._dbs.texts
            )
            self.text_ids[text] = found
        return found

    def index_qualname(self, module_key: bytes, qualname_id: int, qualname: str) -> None:
        """Make sure the qualname index of the module (``module_key``: its packed id) lists ``qualname``."""
        pair = (module_key, qualname_id)
        if pair in self._cache.qualnames or pair in self.qualnames:
            return
        found, key = lookup_name(self._txn, self._dbs.qualnames, module_key, text_bytes(qualname))
        if found is None:
            self._txn.put(key, ID.pack(qualname_id) + text_bytes(qualname), db=self._dbs.qualnames)
        self.qualnames.add(pair)

    def _intern(self, db: Any, prefix: bytes, name: bytes, counter: bytes, by_id: Any) -> int:
        found, key = lookup_name(self._txn, db, prefix, name)
        if found is not None:
            return found
        value = self._txn.get(counter, db=self._dbs.meta)
        number = 1 if value is None else int(SEQ.unpack(value)[0])
        if number > MAX_ID:
            raise TraceStoreError(f"the LMDB environment has run out of ids ({counter.decode()})")
        self._txn.put(counter, SEQ.pack(number + 1), db=self._dbs.meta)
        self._txn.put(key, ID.pack(number) + name, db=db)
        if by_id is not None:
            self._txn.put(ID.pack(number), name, db=by_id)
        return number


def load_text(txn: Txn, dbs: Dbs, number: int) -> Optional[str]:
    """The text with id ``number``; None when there is none (or it is not text)."""
    value = txn.get(ID.pack(number), db=dbs.texts)
    if value is None:
        return None
    try:
        return bytes_text(value)
    except UnicodeDecodeError:
        return None
