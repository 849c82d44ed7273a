"""Stores that probe the kit itself: ones that hang, crash the same way everywhere, or break one clause."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any, ClassVar, Iterable, List, Optional

from reference_stores.memory import InMemoryStore
from tracestore import CallTraceThunk


class DeadlockingAddStore(InMemoryStore):
    """``add`` deadlocks when two threads add at once, as two transactions that lock the same
    rows in opposite orders do where the engine has no deadlock detection (PostgreSQL detects
    them only after ``deadlock_timeout``, https://www.postgresql.org/docs/15/explicit-locking.html
    #LOCKING-DEADLOCKS; a store that takes its own locks gets no detection at all).

    An ``add`` waits up to half a second for company; when a second thread enters ``add``
    meanwhile, both wait for each other forever. Alone, it adds normally.
    """

    process_local: ClassVar[bool] = True
    _gate: ClassVar[threading.Lock] = threading.Lock()
    _inside: ClassVar[List[int]] = []

    def add(self, traces: Iterable[Any]) -> None:
        me = threading.get_ident()
        with self._gate:
            others = [thread for thread in self._inside if thread != me]
            self._inside.append(me)
        company = threading.Event()
        if others or not _wait_for_company(self._inside, me, company):
            threading.Event().wait()  # each holds what the other needs: never returns
        with self._gate:
            self._inside.remove(me)
        super().add(traces)


def _wait_for_company(inside: List[int], me: int, company: threading.Event) -> bool:
    """True when no other thread entered ``add`` within half a second."""
    for _ in range(50):
        if any(thread != me for thread in inside):
            return False
        company.wait(0.01)
    return True


class BlockingDropStore(InMemoryStore):
    """``drop_store`` blocks forever, like MariaDB's ``DROP TABLE`` waiting on the metadata lock
    that a connection with an open transaction holds on the table
    (https://mariadb.com/kb/en/metadata-locking/: DDL waits for every transaction that used the
    table to end; ``lock_wait_timeout`` defaults to one year)."""

    example_connection_string: ClassVar[str] = "kitdrop-{unique}"

    @classmethod
    def drop_store(cls, connection_string: str) -> None:
        threading.Event().wait()


class ConcatlessStore(InMemoryStore):
    """``filter`` fails everywhere with the error of a SQLAlchemy store that calls ``concat()``
    on SQLite before 3.44.0, which has no such function
    (https://www.sqlite.org/releaselog/3_44_0.html: "Added the concat() SQL function")."""

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        raise sqlite3.OperationalError("no such function: concat")


class NegativeLimitEmptyStore(InMemoryStore):
    """Correct except that ``filter(..., limit=-1)`` returns ``[]`` instead of raising
    ``ValueError`` (a short cut ``if limit <= 0: return []``): it breaks the clause S4.negative
    only, the issue's example of a store that declares one clause and is checked on the rest."""

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        if limit < 0:
            return []
        return super().filter(module, qualname_prefix, limit)


class NegativeLimitCrashStore(InMemoryStore):
    """Raises ``TypeError`` (not ``ValueError``) for a negative limit: a crash, not the clause's
    verdict, so declaring S4.negative for it is an error."""

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        if limit < 0:
            raise TypeError("limit must be an unsigned integer")
        return super().filter(module, qualname_prefix, limit)


class HangingFilterStore(InMemoryStore):
    """``filter`` never returns, like a query waiting on a lock that no one releases."""

    process_local: ClassVar[bool] = True

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        threading.Event().wait()
        raise AssertionError("unreachable")


class HangingAddStore(InMemoryStore):
    """``add`` never returns, like an insert waiting on a lock that no one releases."""

    process_local: ClassVar[bool] = True

    def add(self, traces: Iterable[Any]) -> None:
        threading.Event().wait()
