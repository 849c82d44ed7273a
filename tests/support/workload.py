"""A repetitive, production-like trace workload for benchmarks and reliability tests.

Twenty synthetic modules (``tracestore_workload.mod00`` ...), registered in
``sys.modules`` on first use, hold 300 real functions (module-level functions and
methods), so every trace decodes again.  Types are ~20 builtins and nested generics,
each built once, as a tracer sees them: the same objects over and over.
"""

from __future__ import annotations

import random
import sys
import types
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    Generator,
    Iterator,
    List,
    Optional,
    Set,
    Tuple,
    Type,
    Union,
)

from tracestore import CallTrace

MODULE_COUNT = 20
FUNCTIONS_PER_MODULE = 15
PACKAGE = "tracestore_workload"


class Payload:
    """A user class that appears among the traced types."""


TYPES: List[Any] = [
    int,
    str,
    bytes,
    float,
    bool,
    type(None),
    Payload,
    List[int],
    Dict[str, int],
    Optional[str],
    Tuple[int, str],
    Set[str],
    FrozenSet[int],
    Union[int, str],
    Type[Payload],
    Iterator[int],
    Generator[int, None, None],
    List[Dict[str, List[int]]],
    Dict[str, Optional[List[Tuple[int, float]]]],
    Any,
]
ARG_NAMES = ("self", "key", "value", "items", "timeout", "callback", "request")


def _module_source(index: int) -> str:
    lines = []
    for f in range(FUNCTIONS_PER_MODULE):
        if f % 3 == 2:
            lines += [f"class Handler{f}:", f"    def handle{f}(self, key, value): pass", ""]
        else:
            lines += [f"def func{f}(key, value, items): pass", ""]
    return "\n".join(lines)


def modules() -> List[types.ModuleType]:
    """The synthetic modules, created and registered in ``sys.modules`` once per process."""
    made = []
    for index in range(MODULE_COUNT):
        name = f"{PACKAGE}.mod{index:02d}"
        module = sys.modules.get(name)
        if module is None:
            module = types.ModuleType(name)
            exec(compile(_module_source(index), name, "exec"), module.__dict__)
            for value in module.__dict__.values():
                if isinstance(value, type):
                    value.__module__ = name
            sys.modules[name] = module
        made.append(module)
    sys.modules.setdefault(PACKAGE, types.ModuleType(PACKAGE))
    return made


def functions() -> List[Callable[..., Any]]:
    """Every workload function, in a fixed order (300 of them)."""
    found: List[Callable[..., Any]] = []
    for module in modules():
        for f in range(FUNCTIONS_PER_MODULE):
            if f % 3 == 2:
                found.append(getattr(module, f"Handler{f}").__dict__[f"handle{f}"])
            else:
                found.append(getattr(module, f"func{f}"))
    return found


def production_workload(n_traces: int, seed: int = 0) -> List[CallTrace]:
    """``n_traces`` traces as a sampling tracer would record them: few shapes, repeated.

    Hot functions are called far more often than cold ones, and each argument sees
    one of a few types, so most traces repeat an earlier one exactly.
    """
    rng = random.Random(seed)
    funcs = functions()
    weights = [1.0 / (rank + 1) for rank in range(len(funcs))]
    shapes: Dict[int, List[Tuple[Dict[str, Any], Any]]] = {}
    for index in range(len(funcs)):
        names = rng.sample(ARG_NAMES[1:], 3)
        shapes[index] = [({name: rng.choice(TYPES) for name in names}, rng.choice(TYPES)) for _ in range(4)]
    chosen = rng.choices(range(len(funcs)), weights=weights, k=n_traces)
    traces = []
    for index in chosen:
        arg_types, return_type = rng.choice(shapes[index])
        traces.append(CallTrace(funcs[index], arg_types, return_type))
    return traces


def distinct_traces(n: int, module_index: Optional[int] = None) -> List[CallTrace]:
    """``n`` pairwise-distinct traces (up to 2.4M; or 120k within one module).

    Trace ``i`` varies the function fastest, then the arg types, then the return
    type, so traces spread evenly over the modules; with ``module_index`` they all
    belong to that one module.
    """
    funcs = functions()
    if module_index is not None:
        funcs = funcs[module_index * FUNCTIONS_PER_MODULE : (module_index + 1) * FUNCTIONS_PER_MODULE]
    arg_dicts = [{"key": a, "value": b} for a in TYPES for b in TYPES]
    limit = len(funcs) * len(arg_dicts) * len(TYPES)
    if n > limit:
        raise ValueError(f"at most {limit} distinct traces, not {n}")
    traces = []
    nf, na = len(funcs), len(arg_dicts)
    for i in range(n):
        traces.append(CallTrace(funcs[i % nf], arg_dicts[(i // nf) % na], TYPES[i // (nf * na)]))
    return traces


def module_names() -> List[str]:
    return [module.__name__ for module in modules()]


FILTER_MODULE = f"{PACKAGE}.mod03"  # the module the filter benchmarks query


def filter_corpus(n: int) -> List[CallTrace]:
    """``n`` distinct traces: 70% spread over all 300 functions, 30% in ``FILTER_MODULE``'s 15, shuffled.

    So a query of ``FILTER_MODULE`` (with or without a prefix of a few of its functions)
    has 2,000 matches already at 100,000 traces, and every size answers the same
    queries with the same number of results.
    """
    focus_funcs = [f for f in functions() if f.__module__ == FILTER_MODULE]
    focused = n * 3 // 10
    traces = distinct_traces(n - focused) + [
        CallTrace(focus_funcs[i % 15], {"key": TYPES[i % 20], f"n{i}": int}, TYPES[i // 15 % 20])
        for i in range(focused)
    ]
    random.Random(n).shuffle(traces)
    return traces


def repeated(traces: List[CallTrace], times: int, seed: int = 0) -> List[CallTrace]:
    """Each of ``traces`` ``times`` times, shuffled: a table full of repeated traces when stored."""
    result = traces * times
    random.Random(seed).shuffle(result)
    return result
