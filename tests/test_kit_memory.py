"""The whole conformance kit over the in-memory reference store."""

from __future__ import annotations

from pathlib import Path

from conformance import CallTraceStoreTests
from reference_stores.memory import InMemoryStore


class TestInMemoryStore(CallTraceStoreTests[InMemoryStore]):
    """``make_store(name)`` shares one store per name, so the directory's path names the store."""

    distinct_results = True
    ordered_results = True

    def make_store(self, directory: Path) -> InMemoryStore:
        return InMemoryStore.make_store(str(directory))

    def reopen_store(self, store: InMemoryStore, directory: Path) -> InMemoryStore:
        return InMemoryStore.make_store(str(directory))
