"""Typed views of the py-lmdb objects ``LMDBStore`` uses, and its named databases.

py-lmdb may come with or without type stubs; these small protocols keep the store
checked by mypy either way.
"""

from __future__ import annotations

from typing import Any, Iterator, List, NamedTuple, Optional, Protocol, Tuple

DB_NAMES = (b"meta", b"modules", b"texts", b"text_ids", b"qualnames", b"recent", b"byqual", b"rows")


class Cursor(Protocol):
    def set_range(self, key: bytes, /) -> bool: ...
    def prev(self) -> bool: ...
    def last(self) -> bool: ...
    def key(self) -> bytes: ...
    def iterprev(self, keys: bool = True, values: bool = True) -> Iterator[Any]: ...
    def iternext(self, keys: bool = True, values: bool = True) -> Iterator[Any]: ...
    def put(self, key: bytes, value: bytes) -> bool: ...
    def replace(self, key: bytes, value: bytes) -> Optional[bytes]: ...
    def pop(self, key: bytes) -> Optional[bytes]: ...
    def getmulti(self, keys: List[bytes]) -> List[Tuple[bytes, bytes]]: ...


class Txn(Protocol):
    def get(self, key: bytes, default: None = None, db: Any = None) -> Optional[bytes]: ...
    def put(
        self,
        key: bytes,
        value: bytes,
        dupdata: bool = True,
        overwrite: bool = True,
        append: bool = False,
        db: Any = None,
    ) -> bool: ...
    def delete(self, key: bytes, value: bytes = b"", db: Any = None) -> bool: ...
    def cursor(self, db: Any = None) -> Cursor: ...


class Dbs(NamedTuple):
    """The named databases (py-lmdb handles) of one open environment."""

    meta: Any
    modules: Any
    texts: Any
    text_ids: Any
    qualnames: Any
    recent: Any
    byqual: Any
    rows: Any
