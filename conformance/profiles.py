"""Hypothesis settings profiles for the kit: ``dev`` (fast), ``ci`` (derandomized), ``thorough``.

The kit's property tests take their settings from :func:`current`, which is chosen, in
order, by the pytest option ``--tracestore-profile NAME``, the environment variable
``TRACESTORE_PROFILE``, and otherwise ``ci`` when the ``CI`` variable is set, else ``dev``.
The profiles are also registered with Hypothesis as ``tracestore-dev`` etc., so they can
be loaded by name elsewhere; the kit never changes Hypothesis' default profile.

A seed (``select(name, seed=N)``, else the variable ``TRACESTORE_SEED``) makes a run of a
non-derandomized profile repeatable: every property test draws from that seed, as with
Hypothesis' own ``--hypothesis-seed``, and no example database is read or written.
``TRACESTORE_SHRINK=0`` skips shrinking (a run that only needs the verdict, like the
self-test's seeded runs: shrinking never changes whether a fault is found).
"""

from __future__ import annotations

import os
from typing import Dict, Mapping, Optional

import hypothesis.core
from hypothesis import HealthCheck, Phase, settings

ENV_VAR = "TRACESTORE_PROFILE"
SEED_VAR = "TRACESTORE_SEED"
SHRINK_VAR = "TRACESTORE_SHRINK"

# Stores do I/O, so example timings vary: no deadline, and no "too slow" health check.
_COMMON = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

PROFILES: Mapping[str, settings] = {
    "dev": settings(_COMMON, max_examples=10, stateful_step_count=15),
    "ci": settings(
        _COMMON, max_examples=20, stateful_step_count=25, derandomize=True, database=None, print_blob=True
    ),
    "thorough": settings(_COMMON, max_examples=300, stateful_step_count=60),
}

NO_SHRINK = tuple(phase for phase in Phase if phase is not Phase.shrink)
STATEFUL_OVERRIDES: Mapping[str, Mapping[str, object]] = {
    "dev": {"phases": NO_SHRINK, "max_examples": 5},
    "ci": {"phases": NO_SHRINK, "max_examples": 10},
    "thorough": {"max_examples": 100},
}
"""Extra settings of the stateful tests: fewer, longer runs (each run makes one store). Shrinking
a failing run of a state machine over a real store can take minutes, so only ``thorough`` does
it; the example tests of the same rule report minimal examples, and a stateful failure names
the query and the rule it broke."""

for _name, _profile in PROFILES.items():
    settings.register_profile(f"tracestore-{_name}", _profile)

_selected: Dict[str, str] = {}
_seeds: Dict[str, int] = {}


def default_name() -> str:
    """The profile named by ``TRACESTORE_PROFILE``, else ``ci`` under CI, else ``dev``."""
    named = os.environ.get(ENV_VAR, "").strip()
    if named:
        return named
    return "ci" if os.environ.get("CI") else "dev"


def default_seed() -> Optional[int]:
    """The seed named by ``TRACESTORE_SEED`` (``None`` when unset or empty).

    Raises ``ValueError`` when the variable is set but is not an integer.
    """
    named = os.environ.get(SEED_VAR, "").strip()
    if not named:
        return None
    try:
        return int(named)
    except ValueError:
        raise ValueError(f"{SEED_VAR}={named!r} is not an integer seed") from None


def select(name: Optional[str] = None, seed: Optional[int] = None) -> str:
    """Make ``name`` (or :func:`default_name`) the current profile; returns its name.

    ``seed`` (or :func:`default_seed`) fixes the random choices of every property test
    from then on; without one, a seed set earlier stays in force.
    Raises ``ValueError`` naming the profiles that exist when ``name`` is not one.
    """
    chosen = name or default_name()
    if chosen not in PROFILES:
        raise ValueError(f"unknown tracestore profile {chosen!r}; choose one of {', '.join(PROFILES)}")
    _selected["name"] = chosen
    fixed = seed if seed is not None else default_seed()
    if fixed is not None:
        _seeds["seed"] = fixed
        # What Hypothesis' pytest plugin does for --hypothesis-seed: tests without their own
        # @seed draw from this seed (derandomized profiles keep their per-test seed).
        setattr(hypothesis.core, "global_force_seed", fixed)  # noqa: B010  # not in its stubs
    return chosen


def current_seed() -> Optional[int]:
    """The seed selected, if any."""
    return _seeds.get("seed")


def forget_seed() -> None:
    """Drop the selected seed: property tests draw at random again (or per test, if derandomized)."""
    if _seeds.pop("seed", None) is not None:
        setattr(hypothesis.core, "global_force_seed", None)  # noqa: B010


def current_name() -> str:
    """The name of the current profile (selecting the default one if none was)."""
    return _selected.get("name") or select()


def current(**overrides: object) -> settings:
    """Settings of the current profile, with ``overrides`` (any ``hypothesis.settings`` field).

    Under a seed, no example database: a seeded run neither replays nor records failures.
    """
    if current_seed() is not None:
        overrides = {"database": None, **overrides}
    if os.environ.get(SHRINK_VAR, "").strip() == "0":
        overrides = {"phases": NO_SHRINK, "report_multiple_bugs": False, **overrides}
    return settings(PROFILES[current_name()], **overrides)  # type: ignore[arg-type]


def current_stateful(**overrides: object) -> settings:
    """Settings of the current profile for a state machine (``STATEFUL_OVERRIDES`` applied)."""
    return current(**{**STATEFUL_OVERRIDES[current_name()], **overrides})
