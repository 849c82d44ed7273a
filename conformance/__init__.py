"""The tracestore conformance kit: prove a call-trace store right, rule by rule.

Subclass :class:`CallTraceStoreTests` in a pytest test module (see its docstring and the
README); strategies live in :mod:`conformance.strategies`, settings profiles in
:mod:`conformance.profiles`, rule IDs in :mod:`conformance.rules`.
``CallTraceStoreTests`` is imported on first use, so that importing a light
submodule (a writer subprocess, the rule list) does not load pytest and Hypothesis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conformance.mixin import CallTraceStoreTests, StoreLike

__all__ = ["CallTraceStoreTests", "StoreLike"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from conformance import mixin

        return getattr(mixin, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
