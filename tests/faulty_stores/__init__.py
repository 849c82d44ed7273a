"""Faulty stores for the kit's self-test: one fault each, named by the rule it breaks.

Each class's ``breaks`` attribute is the rule ID the kit must report as FAIL, and
its docstring says how the rule is broken. Each is importable as
``"tests.faulty_stores:ClassName"`` and opened with its own ``make_store``. The
fault-free baselines they are built from (``BaselineStore``, ``JsonLinesStore``)
must pass every rule.
"""

from __future__ import annotations

from typing import Any, Tuple, Type

from tests.faulty_stores.baseline import BaselineDuplicatesStore, BaselineStore
from tests.faulty_stores.concurrency import BusyRaisesStore, LostUpdateStore, ProcessLostUpdateStore
from tests.faulty_stores.encoding import (
    CompactJsonStore,
    LogsTwiceStore,
    LogsWithoutTracebackStore,
    ReversedUnionStore,
    TypedDictAsDictStore,
    UnsortedKeysStore,
)
from tests.faulty_stores.jsonl import JsonLinesStore
from tests.faulty_stores.limits import (
    LimitBeforeDedupStore,
    LimitBeforePrefixStore,
    LimitIgnoredStore,
    LimitOffByOneStore,
    NegativeLimitAcceptedStore,
    SmallDefaultLimitStore,
    ZeroLimitUnlimitedStore,
)
from tests.faulty_stores.matching import (
    ModuleCaseInsensitiveStore,
    ModuleLikeStore,
    ModulePrefixStore,
    PrefixCaseFoldedStore,
    PrefixGlobStore,
    PrefixLikeWildcardStore,
    PrefixSubstringStore,
    PrefixWholeComponentStore,
)
from tests.faulty_stores.persistence import (
    BufferedUntilCloseStore,
    ClobbersForeignFileStore,
    HalfMadeStore,
    ProcessMemoryStore,
    TruncatesOnReopenStore,
    VagueConfigErrorStore,
)
from tests.faulty_stores.reads import (
    CaseFoldedModulesStore,
    DecodesInFilterStore,
    DropsUndecodableStore,
    DuplicatedModulesStore,
    EmptyAddRaisesStore,
    ListModulesGivesUpStore,
    NonEmptyUnknownModuleRaisesStore,
    RuntimeErrorNamingStore,
    UnknownMetacharacterModuleRaisesStore,
    UnknownModuleRaisesStore,
    UnknownModuleWithPrefixRaisesStore,
    VagueDecodeErrorStore,
    WrongTraceOnDecodeErrorStore,
)
from tests.faulty_stores.realistic import REALISTIC_STORES
from tests.faulty_stores.recency import (
    DedupKeepsOldestStore,
    DedupsDespiteDuplicatesStore,
    KeepsDuplicatesStore,
    OldestFirstStore,
    OldestWinsStore,
    SecondGranularStore,
    SortedByQualnameStore,
)
from tests.faulty_stores.writes import (
    DedupByFunctionStore,
    DropsReturnTypeStore,
    DropsYieldTypeStore,
    FlattensGenericsStore,
    LiveArgTypesStore,
    LosesBatchStore,
    RaisesOnBadTraceStore,
    SilentlySkipsStore,
    StopsAtFirstBadStore,
)

#: The fault-free stores the faulty ones are built from; each must pass the kit.
BASELINES: Tuple[Type[Any], ...] = (BaselineStore, BaselineDuplicatesStore, JsonLinesStore)

#: Every faulty store, in rule order.
FAULTY_STORES: Tuple[Type[Any], ...] = (
    TypedDictAsDictStore,
    CompactJsonStore,
    UnsortedKeysStore,
    ReversedUnionStore,
    LogsWithoutTracebackStore,
    LogsTwiceStore,
    DropsReturnTypeStore,
    DropsYieldTypeStore,
    FlattensGenericsStore,
    DedupByFunctionStore,
    ModulePrefixStore,
    ModuleCaseInsensitiveStore,
    ModuleLikeStore,
    PrefixLikeWildcardStore,
    PrefixCaseFoldedStore,
    PrefixGlobStore,
    PrefixSubstringStore,
    PrefixWholeComponentStore,
    LimitOffByOneStore,
    NegativeLimitAcceptedStore,
    LimitIgnoredStore,
    ZeroLimitUnlimitedStore,
    SmallDefaultLimitStore,
    LimitBeforeDedupStore,
    LimitBeforePrefixStore,
    OldestWinsStore,
    SecondGranularStore,
    KeepsDuplicatesStore,
    DedupKeepsOldestStore,
    DedupsDespiteDuplicatesStore,
    RaisesOnBadTraceStore,
    LosesBatchStore,
    StopsAtFirstBadStore,
    SilentlySkipsStore,
    EmptyAddRaisesStore,
    UnknownModuleRaisesStore,
    NonEmptyUnknownModuleRaisesStore,
    UnknownModuleWithPrefixRaisesStore,
    UnknownMetacharacterModuleRaisesStore,
    DecodesInFilterStore,
    DropsUndecodableStore,
    BufferedUntilCloseStore,
    TruncatesOnReopenStore,
    ProcessMemoryStore,
    LostUpdateStore,
    BusyRaisesStore,
    ProcessLostUpdateStore,
    DuplicatedModulesStore,
    CaseFoldedModulesStore,
    ListModulesGivesUpStore,
    LiveArgTypesStore,
    VagueConfigErrorStore,
    HalfMadeStore,
    ClobbersForeignFileStore,
    OldestFirstStore,
    SortedByQualnameStore,
    WrongTraceOnDecodeErrorStore,
    VagueDecodeErrorStore,
    RuntimeErrorNamingStore,
    *REALISTIC_STORES,
)

# Each realistic store is importable as "tests.faulty_stores:ClassName" too, like the others.
globals().update({store.__name__: store for store in REALISTIC_STORES})

__all__ = [
    "BASELINES",
    "FAULTY_STORES",
    *(store.__name__ for store in (*BASELINES, *FAULTY_STORES)),
]
