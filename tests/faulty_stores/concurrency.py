"""Faulty stores that break under concurrent writers (S11).

The pauses stand for the I/O a real store does between reading and writing; they
make the race as likely as it is in a store that talks to a disk or a server.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any, ClassVar, List

from tests.faulty_stores.baseline import BaselineStore
from tests.faulty_stores.jsonl import JsonLinesStore
from tracestore import TraceStoreError

PAUSE = 0.002


class LostUpdateStore(BaselineStore):
    """S11: ``add`` reads the history, pauses, and writes back history + rows with no lock.

    Two threads adding at once both read the same history; the later write drops
    the other thread's rows.
    """

    breaks: ClassVar[str] = "S11"

    def _append(self, rows: List[Any]) -> None:
        current = list(self._history.rows)
        time.sleep(PAUSE)
        self._history.rows = current + rows


class BusyRaisesStore(BaselineStore):
    """S11: an ``add`` that finds another in progress raises "database is locked" instead of waiting."""

    breaks: ClassVar[str] = "S11"

    def _append(self, rows: List[Any]) -> None:
        if not self._history.lock.acquire(blocking=False):
            raise TraceStoreError("database is locked")
        try:
            time.sleep(PAUSE)
            self._history.rows.extend(rows)
        finally:
            self._history.lock.release()


_PROCESS_LOCK = threading.Lock()


class ProcessLostUpdateStore(JsonLinesStore):
    """S11: rewrites the whole file on ``add`` (read, pause, write a temp file, rename).

    A lock in the process keeps its threads apart, but nothing locks the file, so
    two processes adding at once lose one's rows: only the multi-process check sees it.
    """

    breaks: ClassVar[str] = "S11"

    def _append(self, rows: List[Any]) -> None:
        if not rows:
            return
        data = "".join(json.dumps(row.as_tuple()) + "\n" for row in rows).encode("ascii")
        with _PROCESS_LOCK:
            with open(self.path, "rb") as file:
                old = file.read()
            time.sleep(PAUSE)
            temporary = f"{self.path}.{os.getpid()}.tmp"
            with open(temporary, "wb") as file:
                file.write(old + data)
            os.replace(temporary, self.path)
