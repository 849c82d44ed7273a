"""The LMDB reference store: a memory-mapped key-value environment (py-lmdb)."""

from reference_stores.lmdb.store import LMDBStore

__all__ = ["LMDBStore"]
