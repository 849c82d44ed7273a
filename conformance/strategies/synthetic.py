"""Modules made at runtime, registered in ``sys.modules``, holding functions at any qualname.

They let the kit trace functions whose module and qualname no real project would
use (quotes, ``%``, ``_``, ``\\``, unicode, case variants), and that still decode:
a store's ``to_trace`` finds them by ``(module, qualname)`` like any other function.

Every node of a qualname is a function object (functions take attributes), so
``"a"`` and ``"a.b"`` can both exist in one module. The registry is bounded: past
``capacity`` modules the least recently used one is dropped from ``sys.modules``.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from collections import OrderedDict
from typing import Any, Callable, Dict, List

__all__ = ["REGISTRY", "SyntheticModules", "is_valid_module_name", "is_valid_qualname"]


def _valid_text(name: str) -> bool:
    if not name:
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


_ROOT_IMPORTABLE: Dict[str, bool] = {}


def _root_importable(root: str) -> bool:
    known = _ROOT_IMPORTABLE.get(root)
    if known is None:
        try:
            known = importlib.util.find_spec(root) is not None
        except (ImportError, ValueError):
            known = False
        _ROOT_IMPORTABLE[root] = known
    return known


def is_valid_qualname(qualname: str) -> bool:
    """A qualname whose parts are non-empty and never dunder-like (they would shadow attributes)."""
    return _valid_text(qualname) and all(part and not part.startswith("__") for part in qualname.split("."))


def is_valid_module_name(name: str) -> bool:
    """A name that ``importlib.import_module`` takes and that no real module has."""
    if not _valid_text(name) or name.startswith(".") or name.split(".")[0] in sys.builtin_module_names:
        return False
    if name in REGISTRY or name.split(".")[0] in REGISTRY:
        return True
    return name not in sys.modules and not _root_importable(name.split(".")[0])


def _new_function(module: str, qualname: str) -> types.FunctionType:
    def synthetic(*args: Any, **kwargs: Any) -> None:
        return None

    synthetic.__module__ = module
    synthetic.__qualname__ = qualname
    synthetic.__name__ = qualname.rpartition(".")[2]
    return synthetic  # type: ignore[return-value]  # a def is a FunctionType


class SyntheticModules:
    """A bounded, thread-safe registry of runtime modules. See the module docstring."""

    def __init__(self, capacity: int = 2048) -> None:
        self.capacity = capacity
        self._modules: OrderedDict[str, types.ModuleType] = OrderedDict()
        self._lock = threading.RLock()

    def __contains__(self, name: object) -> bool:
        return name in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def module(self, name: str) -> types.ModuleType:
        """The module called ``name``, created and put in ``sys.modules`` if needed."""
        with self._lock:
            found = self._modules.get(name)
            if found is not None and sys.modules.get(name) is found:
                self._modules.move_to_end(name)
                return found
            if not is_valid_module_name(name):
                raise ValueError(f"{name!r} cannot name a synthetic module")
            made = types.ModuleType(name, "A synthetic module of the tracestore conformance kit.")
            self._modules[name] = made
            sys.modules[name] = made
            while len(self._modules) > self.capacity:
                old, dropped = self._modules.popitem(last=False)
                if sys.modules.get(old) is dropped:
                    del sys.modules[old]
            return made

    def function(self, module: str, qualname: str) -> Callable[..., Any]:
        """The function at ``module.qualname``, made (with every enclosing node) if needed."""
        if not is_valid_qualname(qualname):
            raise ValueError(f"{qualname!r} cannot name a synthetic function")
        with self._lock:
            node: Any = self.module(module)
            parts: List[str] = qualname.split(".")
            for depth, part in enumerate(parts, start=1):
                child = node.__dict__.get(part)
                path = ".".join(parts[:depth])
                if not isinstance(child, types.FunctionType) or child.__qualname__ != path:
                    child = _new_function(module, path)
                    setattr(node, part, child)
                node = child
            made: Callable[..., Any] = node
            return made

    def klass(self, module: str, qualname: str) -> type:
        """A new class at ``module.qualname`` (enclosing nodes are functions), replacing any old one."""
        if not is_valid_qualname(qualname):
            raise ValueError(f"{qualname!r} cannot name a synthetic class")
        with self._lock:
            outer, _, name = qualname.rpartition(".")
            node: Any = self.function(module, outer) if outer else self.module(module)
            made = type(name, (), {"__module__": module, "__qualname__": qualname})
            setattr(node, name, made)
            return made

    def remove_name(self, module: str, qualname: str) -> None:
        """Delete ``qualname`` from ``module`` (so traces naming it no longer decode)."""
        with self._lock:
            outer, _, name = qualname.rpartition(".")
            node: Any = self.function(module, outer) if outer else self.module(module)
            if name in node.__dict__:
                delattr(node, name)

    def remove_module(self, name: str) -> None:
        """Forget module ``name`` and take it out of ``sys.modules``."""
        with self._lock:
            made = self._modules.pop(name, None)
            if made is not None and sys.modules.get(name) is made:
                del sys.modules[name]


REGISTRY = SyntheticModules()
"""The registry every strategy of the kit uses."""
