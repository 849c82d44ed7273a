"""Public Hypothesis strategies of the conformance kit.

Use them in your own tests of a store, or of anything that handles call traces:

* types (rule E1): :func:`types`, :func:`simple_types`, :func:`typed_dicts`, :func:`unions`, ...;
* functions: :func:`importable_functions` (every shape E1 lists, and functions under
  adversarial names in runtime modules, see :mod:`conformance.strategies.synthetic`);
* names that stores confuse (rules S2, S3): :func:`module_names`, :func:`qualnames`,
  :func:`sibling_module_names`, :func:`sibling_qualnames`, :func:`prefixes_of`;
* traces: :func:`call_traces`, :func:`unserializable_traces` (rules E4, S7), :func:`mixed_traces`.

Compare traces with ``tracestore.traces_equal``: a decoded ``TypedDict`` is a new class.
"""

from __future__ import annotations

from conformance.strategies.functions import importable_functions, sample_functions, synthetic_functions
from conformance.strategies.names import (
    module_names,
    prefixes_of,
    qualnames,
    sibling_module_names,
    sibling_qualnames,
    variants,
)
from conformance.strategies.synthetic import REGISTRY, SyntheticModules
from conformance.strategies.traces import (
    QualnameRaises,
    arg_names,
    call_traces,
    mixed_traces,
    unserializable_traces,
)
from conformance.strategies.types import (
    SIMPLE_TYPES,
    builtin_types,
    generic_types,
    leaf_types,
    simple_types,
    typed_dicts,
    types,
    unions,
    user_types,
)

__all__ = [
    "REGISTRY",
    "SIMPLE_TYPES",
    "QualnameRaises",
    "SyntheticModules",
    "arg_names",
    "builtin_types",
    "call_traces",
    "generic_types",
    "importable_functions",
    "leaf_types",
    "mixed_traces",
    "module_names",
    "prefixes_of",
    "qualnames",
    "sample_functions",
    "sibling_module_names",
    "sibling_qualnames",
    "simple_types",
    "synthetic_functions",
    "typed_dicts",
    "types",
    "unions",
    "unserializable_traces",
    "user_types",
    "variants",
]
