"""What the tests of every server-backed store share: the skip-or-fail rule and URL parameters."""

from __future__ import annotations

import os
from typing import Optional

import pytest


def require(problem: Optional[str], env_var: str) -> None:
    """Fail (under CI) or skip (locally) when ``problem`` says the test server cannot be used."""
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{problem}; CI is set, so this is a failure, not a skip", pytrace=False)
    pytest.skip(f"{problem}; start it, or set {env_var}")


def with_params(url: str, **params: str) -> str:
    """``url`` with query parameters appended."""
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"
