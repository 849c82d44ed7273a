"""The kit's capability registry: what a store can do, the rules that need it, how the kit knows.

Every capability is documented once, here. The mixin and the CLI read the same registry:
a test declares what it needs with :func:`requires`, and the kit skips it, naming the
capability and the rule, only where :func:`missing` says the capability is absent. Each
capability is derived from the test class (its hooks and class attributes) or from its
``store_class``, or stated on either.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

import pytest

MARKER = "tracestore_requires"
"""The pytest marker :func:`requires` puts on a test: ``(capability, rule)``."""

DEFAULT_TEMPLATE = "{directory}/store"
"""The connection template of a ``store_class`` that names none (``example_connection_string``)."""

_BARE_NAME = re.compile(r"[\w.-]*\{unique\}[\w.-]*")  # names an in-process store, e.g. "{unique}"


class Capability(NamedTuple):
    name: str
    rules: Tuple[str, ...]
    description: str
    #: ``None`` when present, else why not; ``None`` as a whole for capabilities that the
    #: kit can only find out by calling the store (they are checked inside the test).
    why_missing: Optional[Callable[[Any], Optional[str]]]


def _class(kit: Any) -> type:
    """The test class, given the class or one of its instances."""
    return kit if isinstance(kit, type) else type(kit)


def _hook_overridden(kit: Any, name: str) -> bool:
    from conformance.checks.base import KitBase

    return getattr(_class(kit), name) is not getattr(KitBase, name)


def _store_class(kit: Any) -> Optional[type]:
    return getattr(_class(kit), "store_class", None)


def _title(kit: Any) -> str:
    return _class(kit).__qualname__


def template_of(kit: Any) -> Optional[str]:
    """The connection template the kit expands for ``kit``'s stores, if it derives them."""
    store_class = _store_class(kit)
    if store_class is None:
        return None
    template = getattr(_class(kit), "connection_template", None)
    return template or getattr(store_class, "example_connection_string", None) or DEFAULT_TEMPLATE


def has_connection_string(kit: Any) -> bool:
    """Whether the kit can name a store by connection string (the hook, or a derived template)."""
    return _hook_overridden(kit, "connection_string") or template_of(kit) is not None


def names_an_in_process_store(template: str) -> bool:
    """A bare-name template like ``"{unique}"`` names a store inside this process only."""
    return _BARE_NAME.fullmatch(template) is not None


def _ordered(kit: Any) -> Optional[str]:
    return None if kit.ordered_results else f"{_title(kit)}.ordered_results is False"


def reopens_in_process(kit: Any) -> bool:
    """Whether the kit can open a second handle in this process: ``reopen_store``, or
    ``make_store`` of the store's connection string (``store_class``, or the hook)."""
    return has_connection_string(kit) or _hook_overridden(kit, "reopen_store")


def _reopen(kit: Any) -> Optional[str]:
    if getattr(kit, "process_local", False):
        return f"{_title(kit)} is process-local (process_local = True): its data dies with this process"
    if reopens_in_process(kit):
        return None
    return f"{_title(kit)} defines none of reopen_store(), connection_string() and store_class"


def _connection_string(kit: Any) -> Optional[str]:
    if has_connection_string(kit):
        return None
    return f"{_title(kit)} defines neither connection_string() nor store_class"


def _other_processes(kit: Any) -> Optional[str]:
    if getattr(kit, "process_local", False):
        return f"{_title(kit)} is process-local (process_local = True): no other process can open its stores"
    if _hook_overridden(kit, "connection_string"):
        return None
    template = template_of(kit)
    if template is None:
        return f"{_title(kit)} defines neither connection_string() nor store_class"
    return template_reaches_other_processes(template)


def template_reaches_other_processes(template: str) -> Optional[str]:
    """``None`` when another process can open a store from ``template``, else why not."""
    if names_an_in_process_store(template):
        return f"the connection template {template!r} names a store inside this process only"
    return None


def _server_cleanup(kit: Any) -> Optional[str]:
    if _hook_overridden(kit, "remove_store") or callable(getattr(_store_class(kit), "drop_store", None)):
        return None
    return f"{_title(kit)} defines no remove_store() and its store class no drop_store()"


CAPABILITIES: Dict[str, Capability] = {
    capability.name: capability
    for capability in (
        Capability(
            "ordered_results",
            ("S15",),
            "filter lists results most recent first. Stated as ``ordered_results = True`` on the "
            "test class or the store class. Without it the kit compares answers as multisets.",
            _ordered,
        ),
        Capability(
            "distinct_results",
            ("S6",),
            "filter never returns two equal rows. Stated as ``distinct_results`` (default True) on "
            "the test class or the store class; False means every duplicate is kept and counted. "
            "It changes what S4-S6 expect and never skips a test.",
            lambda kit: None,
        ),
        Capability(
            "reopen",
            ("S10",),
            "a second, independent handle on the same data: opened in a new process by connection "
            "string where the store has ``other_processes``, else with the ``reopen_store`` hook, or "
            "derived from ``store_class`` (``make_store`` of the same connection string). Absent, "
            "with the reason said, for a ``process_local`` store.",
            _reopen,
        ),
        Capability(
            "connection_string",
            ("S14",),
            "the kit can name a store by a string, to make bad strings from it. From the "
            "``connection_string`` hook, or derived from ``store_class`` and ``connection_template``.",
            _connection_string,
        ),
        Capability(
            "other_processes",
            ("S10", "S11"),
            "another process opens the same data by connection string, so S10 reopens and S11 "
            "writes from other processes. From the ``connection_string`` hook, or a derived "
            "template that does not name an in-process store (``'{unique}'``); absent where "
            "``process_local = True`` is stated on the test class or the store class.",
            _other_processes,
        ),
        Capability(
            "list_modules",
            ("S12",),
            "``list_modules()`` is implemented: it does not raise NotImplementedError on an "
            "empty store. Found out by calling it, inside the S12 tests.",
            None,
        ),
        Capability(
            "row_extensions",
            ("E2", "E3"),
            "the thunks ``filter`` returns are rows (``module``, ``qualname``, ``arg_types``, "
            "``return_type``, ``yield_type``), so E2 and E3 are checked through the store. Found "
            "out from the thunks, inside the E2/E3 tests.",
            None,
        ),
        Capability(
            "server_cleanup",
            (),
            "what a store made outside its directory (a schema, a table, keys) is removed after "
            "each example. From the ``remove_store`` hook, or ``store_class.drop_store("
            "connection_string)``.",
            _server_cleanup,
        ),
    )
}


def requires(capability: str, rule: str) -> pytest.MarkDecorator:
    """Mark a kit test as needing ``capability`` to check ``rule``; it is skipped, saying so, without."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}")
    mark: pytest.MarkDecorator = getattr(pytest.mark, MARKER)(capability, rule)
    return mark


def missing(kit: Any, capability: str) -> Optional[str]:
    """Why ``kit`` lacks ``capability``, or ``None`` when it has it (or it is found out at run time)."""
    why = CAPABILITIES[capability].why_missing
    return None if why is None else why(kit)


def skip_reason(kit: Any, capability: str, rule: str) -> Optional[str]:
    """The skip message of a test of ``rule`` that needs ``capability``, or ``None`` to run it."""
    why = missing(kit, capability)
    return None if why is None else f"{rule} not checked: needs {capability} ({why})"
