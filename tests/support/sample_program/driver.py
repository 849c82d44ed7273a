"""Exercise the sample program: ``python -m monkeytype run -m sample_program.driver``.

Run as a module so that the package imports relatively; its own functions belong to
``__main__``, which MonkeyType does not record.
"""

from __future__ import annotations

from . import legacy, shapes


def main() -> None:
    a = shapes.Point(1.0, 2.0)
    b = shapes.Point.origin()
    a.scaled(3)
    assert a.norm > 0
    shapes.Point.parse("1.5,2.5")
    shapes.Point.parse("nonsense")
    style = shapes.Point.Style("red")
    style.describe(True)
    style.describe(False)
    shapes.Point.Style.Stroke().width(2.0)
    shapes.distance(a, b)
    list(shapes.walk([a, b]))
    list(shapes.countdown(3))
    shapes.label(1)
    shapes.label("one")
    shapes.lookup({"a": [1, 2]}, "a")
    shapes.lookup({"a": [1, 2]}, "b")
    shapes.bounds([a, b])
    legacy.kept("x")
    legacy.retired(2)
    legacy.retired(3)


if __name__ == "__main__":
    main()
