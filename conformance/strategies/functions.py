"""Importable functions: every shape rule E1 lists, and functions under adversarial names."""

from __future__ import annotations

from typing import Any, Callable, Optional

from hypothesis import strategies as st

from conformance.sample_functions import FUNCTIONS
from conformance.strategies.names import module_names, qualnames
from conformance.strategies.synthetic import REGISTRY

__all__ = ["importable_functions", "sample_functions", "synthetic_functions"]

Function = Callable[..., Any]


def sample_functions() -> st.SearchStrategy[Function]:
    """Module-level and generator functions, methods, nested classes' methods, static methods,
    class methods and property getters of ``conformance.sample_functions`` (as a tracer records them)."""
    return st.sampled_from(FUNCTIONS)


def synthetic_functions(
    modules: Optional[st.SearchStrategy[str]] = None, names: Optional[st.SearchStrategy[str]] = None
) -> st.SearchStrategy[Function]:
    """Functions in runtime modules (``conformance.strategies.synthetic``) with adversarial names.

    ``modules`` and ``names`` default to :func:`module_names` and :func:`qualnames`.
    """
    return st.builds(REGISTRY.function, modules or module_names(), names or qualnames())


def importable_functions() -> st.SearchStrategy[Function]:
    """Either kind: every function drawn decodes again from its ``(module, qualname)``."""
    return st.one_of(sample_functions(), synthetic_functions())
