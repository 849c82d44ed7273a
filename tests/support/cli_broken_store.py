"""A deliberately broken store for the CLI tests: it folds case when matching the qualname prefix (S3)."""

from __future__ import annotations

import sys
from typing import ClassVar, List, Optional

from reference_stores.memory import InMemoryStore
from tracestore import CallTraceRow, CallTraceThunk, check_limit


class CaseFoldingPrefixStore(InMemoryStore):
    """Breaks S3 only: ``filter(m, "foo")`` also returns ``Foo.bar`` (like SQL ``LIKE``)."""

    example_connection_string: ClassVar[str] = "{unique}"

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        check_limit(limit)
        prefix = (qualname_prefix or "").casefold()
        everything = super().filter(module, None, sys.maxsize)
        found: List[CallTraceThunk] = [
            row
            for row in everything
            if isinstance(row, CallTraceRow) and row.qualname.casefold().startswith(prefix)
        ]
        return found[:limit]
