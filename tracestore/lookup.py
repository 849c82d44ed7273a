"""Finding a function or type again from its ``(module, qualname)``."""

from __future__ import annotations

import functools
import importlib
import inspect
import types
from typing import Any, Callable

from tracestore.errors import InvalidTypeError, NameLookupError


def get_name_in_module(module: str, qualname: str) -> Any:
    """Return the object at ``qualname`` inside ``module``.

    Raises ``NameLookupError`` naming the module, or the part of the qualname,
    that could not be found.
    """
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as exc:
        raise NameLookupError(f"No module named {module!r}", module) from exc
    except Exception as exc:  # the module exists but fails to import
        raise NameLookupError(f"Module {module!r} failed to import: {exc!r}", module) from exc
    walked = []
    for part in qualname.split("."):
        walked.append(part)
        try:
            obj = getattr(obj, part)
        except AttributeError:
            missing = ".".join(walked)
            raise NameLookupError(
                f"Module {module!r} has no attribute {missing!r}", module, missing
            ) from None
    return obj


def get_func_in_module(module: str, qualname: str) -> Callable[..., Any]:
    """Return the plain function behind ``module.qualname``.

    Bound methods, class methods, property getters and ``functools.cached_property``
    are unwrapped to the function a tracer records.
    """
    func = inspect.unwrap(get_name_in_module(module, qualname))
    if isinstance(func, types.MethodType):
        func = func.__func__
    elif isinstance(func, property):
        if func.fget is None:
            raise InvalidTypeError(f"Property {module}.{qualname} has no getter")
        if func.fset is not None or func.fdel is not None:
            raise InvalidTypeError(f"Property {module}.{qualname} has a setter or deleter")
        func = func.fget
    elif isinstance(func, functools.cached_property):
        func = func.func
    if not isinstance(func, (types.FunctionType, types.BuiltinFunctionType)):
        raise InvalidTypeError(f"{module}.{qualname} is a {type(func).__name__}, not a function")
    return func
