"""The README's example of checking a store with the kit, kept as a test (mypy --strict, no ignores)."""

from __future__ import annotations

import pathlib

from conformance import CallTraceStoreTests
from reference_stores.memory import InMemoryStore


class TestInMemoryStore(CallTraceStoreTests[InMemoryStore]):
    ordered_results = True

    def make_store(self, directory: pathlib.Path) -> InMemoryStore:
        return InMemoryStore.make_store(str(directory))

    def reopen_store(self, store: InMemoryStore, directory: pathlib.Path) -> InMemoryStore:
        return InMemoryStore.make_store(str(directory))
