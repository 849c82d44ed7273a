"""Faulty stores modelled on documented behaviour of real engines and client libraries, one fault each.

Each cites its source in a comment. ``breaks`` is the rule the kit must FAIL; ``also_fails``
the other rules the whole kit fails it on (measured, see tests/kit/test_selftest_seeds.py).
"""

from __future__ import annotations

from typing import Any, Tuple, Type

from tests.faulty_stores.realistic.collation import (
    AccentInsensitiveModuleStore,
    CanonicalEquivalenceModuleStore,
    NormalizedPrefixStore,
    PadSpaceModuleStore,
    TSqlBracketPrefixStore,
)
from tests.faulty_stores.realistic.json_columns import (
    JsonbColumnsStore,
    MinifiedJsonStore,
    YieldTypeNotInKeyStore,
)
from tests.faulty_stores.realistic.paging import (
    FirstPageOnlyStore,
    MySQLPlaceholderCapStore,
    PostgresBindParameterCapStore,
    ResultWindowStore,
    SingleScanModulesStore,
    SQLiteVariableCapStore,
)
from tests.faulty_stores.realistic.state import (
    CounterRestartsOnReopenStore,
    FilterCacheStore,
    ListModulesCacheStore,
    MakedirsFirstStore,
)
from tests.faulty_stores.realistic.unicode import (
    ModifiedUtf8Store,
    NulTerminatedModuleStore,
    NulTerminatedPrefixStore,
    QuestionMarkAstralStore,
    SplitLinesJsonStore,
    Utf8mb3TruncatingModuleStore,
)
from tests.faulty_stores.realistic.widths import (
    BigintLimitRaisesStore,
    IndexPrefixModuleStore,
    Int64WrappingLimitStore,
    Varchar255QualnameStore,
)

#: Every realistic faulty store, in rule order.
REALISTIC_STORES: Tuple[Type[Any], ...] = (
    JsonbColumnsStore,
    MinifiedJsonStore,
    QuestionMarkAstralStore,
    ModifiedUtf8Store,
    SplitLinesJsonStore,
    Varchar255QualnameStore,
    IndexPrefixModuleStore,
    SQLiteVariableCapStore,
    MySQLPlaceholderCapStore,
    PostgresBindParameterCapStore,
    FilterCacheStore,
    YieldTypeNotInKeyStore,
    PadSpaceModuleStore,
    AccentInsensitiveModuleStore,
    CanonicalEquivalenceModuleStore,
    NulTerminatedModuleStore,
    Utf8mb3TruncatingModuleStore,
    NormalizedPrefixStore,
    TSqlBracketPrefixStore,
    NulTerminatedPrefixStore,
    FirstPageOnlyStore,
    Int64WrappingLimitStore,
    BigintLimitRaisesStore,
    ResultWindowStore,
    CounterRestartsOnReopenStore,
    SingleScanModulesStore,
    ListModulesCacheStore,
    MakedirsFirstStore,
)

__all__ = ["REALISTIC_STORES", *(store.__name__ for store in REALISTIC_STORES)]
