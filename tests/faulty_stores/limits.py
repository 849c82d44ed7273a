"""Faulty stores that return the wrong number of results (S4)."""

from __future__ import annotations

from typing import ClassVar, FrozenSet, List, Optional

from tests.faulty_stores.baseline import BaselineStore
from tracestore import CallTraceRow, CallTraceThunk, check_limit


class LimitOffByOneStore(BaselineStore):
    """S4: returns ``limit + 1`` results when there are that many (``<=`` instead of ``<``)."""

    breaks: ClassVar[str] = "S4"
    # Measured under the whole kit (ci profile): the fault shows through these rules' inputs too.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S9"})

    def _choose(self, newest_first: List[CallTraceRow], limit: int) -> List[CallTraceRow]:
        return self._results(newest_first)[: limit + 1]


class NegativeLimitAcceptedStore(BaselineStore):
    """S4: a negative limit means "no limit" (as SQLite's ``LIMIT -1``) instead of raising ``ValueError``."""

    breaks: ClassVar[str] = "S4"

    def _check_limit(self, limit: int) -> int:
        return check_limit(limit) if limit >= 0 else 2**62


class LimitIgnoredStore(BaselineStore):
    """S4: every matching result comes back, whatever the limit."""

    breaks: ClassVar[str] = "S4"
    # Measured under the whole kit (ci profile): the fault shows through these rules' inputs too.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S9"})

    def _choose(self, newest_first: List[CallTraceRow], limit: int) -> List[CallTraceRow]:
        return self._results(newest_first)


class ZeroLimitUnlimitedStore(BaselineStore):
    """S4: ``limit=0`` is read as "no limit" (``limit or None``) instead of giving ``[]``."""

    breaks: ClassVar[str] = "S4"

    def _choose(self, newest_first: List[CallTraceRow], limit: int) -> List[CallTraceRow]:
        return self._results(newest_first)[: limit or None]


class SmallDefaultLimitStore(BaselineStore):
    """S4: the default limit is 100, not 2000."""

    breaks: ClassVar[str] = "S4"

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 100
    ) -> List[CallTraceThunk]:
        return super().filter(module, qualname_prefix, limit)


class LimitBeforeDedupStore(BaselineStore):
    """S4: the limit cuts the raw history before duplicates are merged, so too few results come back."""

    breaks: ClassVar[str] = "S4"

    def _choose(self, newest_first: List[CallTraceRow], limit: int) -> List[CallTraceRow]:
        return self._results(newest_first[:limit])


class LimitBeforePrefixStore(BaselineStore):
    """S4: the limit is applied to the module's results before the qualname prefix filters them."""

    breaks: ClassVar[str] = "S4"
    # Measured under the whole kit (ci profile): the fault shows through these rules' inputs too.
    also_fails: ClassVar[FrozenSet[str]] = frozenset({"S3", "S9"})

    def filter(
        self, module: str, qualname_prefix: Optional[str] = None, limit: int = 2000
    ) -> List[CallTraceThunk]:
        prefix = qualname_prefix or ""
        module_results = super().filter(module, None, limit)
        return [thunk for thunk in module_results if getattr(thunk, "qualname", "").startswith(prefix)]
