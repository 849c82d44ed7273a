"""Points and paths: methods, a property, class and static methods, nested classes, generators."""

from __future__ import annotations

import math
from typing import Dict, Generator, Iterator, List, Optional, Tuple, Union


class Point:
    def __init__(self, x: float, y: float) -> None:
        self.x = x
        self.y = y

    def scaled(self, factor: int) -> Point:
        return Point(self.x * factor, self.y * factor)

    @property
    def norm(self) -> float:
        return math.hypot(self.x, self.y)

    @classmethod
    def origin(cls) -> Point:
        return cls(0.0, 0.0)

    @staticmethod
    def parse(text: str) -> Optional[Point]:
        parts = text.split(",")
        if len(parts) != 2:
            return None
        return Point(float(parts[0]), float(parts[1]))

    class Style:
        """A nested class."""

        def __init__(self, colour: str) -> None:
            self.colour = colour

        def describe(self, verbose: bool) -> str:
            return f"{self.colour} (verbose)" if verbose else self.colour

        class Stroke:
            """A class nested two deep."""

            def width(self, scale: float) -> float:
                return 1.5 * scale


def distance(a: Point, b: Point) -> float:
    return math.hypot(a.x - b.x, a.y - b.y)


def walk(points: List[Point]) -> Iterator[Point]:
    """A generator that returns nothing."""
    for point in points:  # noqa: UP028 (MonkeyType 23.3.0 on Python 3.9 records no yield type for yield from)
        yield point


def countdown(start: int) -> Generator[int, None, str]:
    """A generator with a return value."""
    while start > 0:
        yield start
        start -= 1
    return "done"


def label(value: Union[int, str]) -> str:
    return f"<{value}>"


def lookup(table: Dict[str, List[int]], key: str) -> Optional[List[int]]:
    return table.get(key)


def bounds(points: List[Point]) -> Tuple[float, float]:
    return (min(p.x for p in points), max(p.x for p in points))
