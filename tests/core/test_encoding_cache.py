"""The encoding cache is bounded and never changes the output (E3)."""

from __future__ import annotations

import typing
from typing import Dict, List

import pytest
from monkeytype.encoding import arg_types_to_json as monkeytype_arg_types_to_json

from tracestore.cache import BoundedCache
from tracestore.encoding import arg_types_to_json


def test_bounded_cache_never_exceeds_its_size() -> None:
    cache: BoundedCache[int] = BoundedCache(3)
    for i in range(10):
        cache.put(i, None, i)
        assert cache.stats().entries <= 3
    assert cache.get(9) == 9
    assert cache.get(0) is None


def test_bounded_cache_rejects_zero_size() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        BoundedCache(0)


@pytest.mark.rule("E3")
def test_E3_arg_types_cache_keys_on_identity_not_equality() -> None:
    """E3: two equal-but-differently-written mappings keep their own exact JSON."""
    first: Dict[str, object] = {"a": typing.Union[int, str], "b": List[int]}
    second: Dict[str, object] = {"a": typing.Union[str, int], "b": List[int]}
    assert first == second
    for mapping in (first, second, first):
        assert arg_types_to_json(mapping) == monkeytype_arg_types_to_json(mapping)  # type: ignore[arg-type]


@pytest.mark.rule("E3")
def test_E3_arg_types_cache_sees_mutation_of_the_same_dict() -> None:
    """E3: a dict mutated between calls is encoded as it is now, not as cached."""
    mapping: Dict[str, object] = {"a": int}
    before = arg_types_to_json(mapping)
    mapping["a"] = str
    after = arg_types_to_json(mapping)
    assert before != after
    assert after == monkeytype_arg_types_to_json(mapping)  # type: ignore[arg-type]
