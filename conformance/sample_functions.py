"""Importable functions of every shape rule E1 lists, and user classes to use as types.

Traces of these decode in any process (the kit's multi-process writers use them).
``FUNCTIONS`` holds each as a tracer records it: the plain function object.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, List


def module_function(a: Any, b: Any = None) -> Any:
    """A plain module-level function."""
    return a


def generator_function(n: int) -> Iterator[int]:
    """A generator (its traces carry a ``yield_type``)."""
    yield from range(n)


class Point:
    """A user class, with a method of each kind."""

    def __init__(self, x: int = 0) -> None:
        self.x = x

    def method(self, other: Any) -> Any:
        return other

    @staticmethod
    def static_method(value: Any) -> Any:
        return value

    @classmethod
    def class_method(cls, value: Any) -> Any:
        return value

    @property
    def getter(self) -> int:
        return self.x


class Outer:
    """A user class holding nested classes."""

    class Inner:
        """A nested class, used as a type and for its method."""

        def method(self, value: Any) -> Any:
            return value

        class Deepest:
            """A class nested two levels deep."""

            def method(self) -> None:
                return None


def _property_getter(prop: Any) -> Callable[..., Any]:
    getter: Callable[..., Any] = prop.fget
    return getter


FUNCTIONS: List[Callable[..., Any]] = [
    module_function,
    generator_function,
    Point.__init__,
    Point.method,
    Point.static_method,
    Point.__dict__["class_method"].__func__,
    _property_getter(Point.__dict__["getter"]),
    Outer.Inner.method,
    Outer.Inner.Deepest.method,
]
"""One function of each shape, as a tracer sees it (class methods and getters unwrapped)."""

USER_TYPES: List[type] = [Point, Outer, Outer.Inner, Outer.Inner.Deepest]
"""User classes, nested ones included, to use as types."""
