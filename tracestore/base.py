"""The abstract interfaces: ``CallTraceThunk`` and ``CallTraceStore``.

The contract they carry (rules S1-S15) is written once, in the README.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Iterable, List, Optional

if TYPE_CHECKING:
    from tracestore.trace import CallTrace


class CallTraceThunk(ABC):
    """A stored trace, decoded only on demand (so one bad row spoils nothing else)."""

    __slots__ = ()

    @abstractmethod
    def to_trace(self) -> CallTrace:
        """Decode; raises a ``tracestore.DecodeError`` when the trace can no longer be built."""


class CallTraceStore(ABC):
    """Where call traces are kept. See the README's contract for the rules."""

    @abstractmethod
    def add(self, traces: Iterable[Any]) -> None:
        """Store every serializable trace; log and skip the others (S7)."""

    @abstractmethod
    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        """The `limit` most recent matching traces of `module` (rules S2-S6, S15)."""

    @classmethod
    def make_store(cls, connection_string: str) -> CallTraceStore:
        """Open (creating if needed) the store that ``connection_string`` names."""
        raise NotImplementedError(
            f"Your CallTraceStore ({cls.__module__}.{cls.__name__}) does not implement make_store()"
        )

    def list_modules(self) -> List[str]:
        """Each module with a stored trace, once."""
        raise NotImplementedError(
            f"Your CallTraceStore ({type(self).__module__}.{type(self).__name__}) "
            "does not implement list_modules()"
        )


def check_limit(limit: int) -> int:
    """Validate ``filter``'s ``limit`` (S4): a non-negative int, else ``ValueError``."""
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"limit must be an int, not {type(limit).__name__}")
    if limit < 0:
        raise ValueError(f"limit must be >= 0, not {limit}")
    return limit
