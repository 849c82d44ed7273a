"""Code that is traced and then partly deleted: the end-to-end tests cut this file at RETIRED."""

from __future__ import annotations


def kept(name: str) -> str:
    return name.upper()


# RETIRED: the tests delete everything below this line after tracing.


def retired(count: int) -> int:
    return count * 2
