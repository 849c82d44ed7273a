"""Load a store class from a ``package.module:ClassName`` path, with errors that say what failed."""

from __future__ import annotations

import importlib
from typing import Any, Type


class StoreLoadError(Exception):
    """The path does not name a store class; the message says which part failed and why."""


def load_store_class(path: str) -> Type[Any]:
    """Import ``"pkg.mod:Class"`` (the class part may be dotted, ``"pkg.mod:Outer.Inner"``).

    Raises ``StoreLoadError`` for a malformed path, a module that cannot be found or
    imported, a missing attribute, or an object that is not a class with ``make_store``.
    """
    module_name, sep, qualname = path.partition(":")
    if not sep or not module_name or not qualname:
        raise StoreLoadError(f"{path!r} is not of the form PACKAGE.MODULE:StoreClass")
    module = _import_module(module_name)
    obj: Any = module
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise StoreLoadError(
                f"module {module_name!r} has no attribute {qualname!r} ({part!r} is missing)"
            ) from None
    if not isinstance(obj, type):
        raise StoreLoadError(f"{path!r} is a {type(obj).__name__}, not a class")
    if not callable(getattr(obj, "make_store", None)):
        raise StoreLoadError(f"{path!r} is a class without a make_store(connection_string) classmethod")
    return obj


def _import_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        missing = error.name or name
        if name == missing or name.startswith(missing + "."):
            raise StoreLoadError(f"module {missing!r} not found (importing {name!r})") from None
        raise StoreLoadError(f"importing module {name!r} failed: {error}") from error
    except Exception as error:
        raise StoreLoadError(f"importing module {name!r} failed: {type(error).__name__}: {error}") from error
