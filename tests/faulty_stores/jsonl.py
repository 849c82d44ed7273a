"""``JsonLinesStore``: a correct file-backed baseline (one JSON line per row) for persistence faults.

The connection string is the file's path. Writers append under an exclusive
``flock`` and readers read under a shared one, so threads and processes may share
a file (S11); every ``add`` reaches the file before it returns (S10).
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from typing import Any, ClassVar, List, Type, TypeVar

from tests.faulty_stores.baseline import BaselineStore
from tracestore import CallTraceRow, StoreConfigError

JsonLinesT = TypeVar("JsonLinesT", bound="JsonLinesStore")

HEADER = b'{"format": "tracestore-selftest-jsonl", "version": 1}\n'


class JsonLinesStore(BaselineStore):
    """A correct store kept in a JSON-lines file; every step but storage is the baseline's."""

    example_connection_string: ClassVar[str] = "{directory}/traces.jsonl"
    process_local: ClassVar[bool] = False  # the file is shared: S10 reopens it in a new process

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self._cache_lock = threading.Lock()
        self._rows: List[CallTraceRow] = []
        self._offset = 0

    @classmethod
    def make_store(cls: Type[JsonLinesT], connection_string: str) -> JsonLinesT:
        path = cls._validated_path(connection_string)
        cls._create(path)
        return cls(path)

    @classmethod
    def _validated_path(cls, connection_string: Any) -> str:
        """The path, checked before anything is created (S14)."""
        if not isinstance(connection_string, str):
            raise StoreConfigError(
                f"connection string must be a file path (str), not {type(connection_string).__name__}"
            )
        if not connection_string:
            raise StoreConfigError("connection string is empty: give the path of a .jsonl trace file")
        if os.path.isdir(connection_string):
            raise StoreConfigError(f"{connection_string!r} is a directory, not a trace file")
        parent = os.path.dirname(os.path.abspath(connection_string))
        if not os.path.isdir(parent):
            raise StoreConfigError(f"{connection_string!r}: its directory {parent!r} does not exist")
        if os.path.exists(connection_string):
            try:
                with open(connection_string, "rb") as file:
                    fcntl.flock(file, fcntl.LOCK_SH)
                    first = file.readline()
            except OSError as error:
                raise StoreConfigError(f"{connection_string!r} cannot be read: {error}") from error
            if first and first != HEADER:
                raise StoreConfigError(f"{connection_string!r} exists but is not a JSON-lines trace file")
        return connection_string

    @classmethod
    def _create(cls, path: str) -> None:
        """Create the file with its header unless it exists."""
        try:
            with open(path, "ab") as file:
                fcntl.flock(file, fcntl.LOCK_EX)
                if os.fstat(file.fileno()).st_size == 0:
                    file.write(HEADER)
        except OSError as error:
            raise StoreConfigError(f"{path!r} cannot be created: {error}") from error

    def _append(self, rows: List[Any]) -> None:
        if not rows:
            return
        data = "".join(json.dumps(row.as_tuple()) + "\n" for row in rows).encode("ascii")
        with open(self.path, "ab") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            file.write(data)

    def _snapshot(self) -> List[CallTraceRow]:
        with self._cache_lock:
            with open(self.path, "rb") as file:
                fcntl.flock(file, fcntl.LOCK_SH)
                file.seek(self._offset)
                data = file.read()
            end = data.rfind(b"\n") + 1
            lines = data[:end].splitlines()
            if self._offset == 0 and lines and lines[0] == HEADER.rstrip(b"\n"):
                lines = lines[1:]
            self._rows.extend(CallTraceRow(*json.loads(line)) for line in lines)
            self._offset += end
            return list(self._rows)
