"""The README's user example is the file ``tests/kit/test_user_example.py``, and it type-checks under
``mypy --strict`` on its own, as a user's file outside this project (no project config) would."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "kit" / "test_user_example.py"
ANCHOR = "from conformance import CallTraceStoreTests"


def _code(text: str) -> str:
    """The example's code: from its first import on, without the module docstring."""
    return text[text.index(ANCHOR) :].strip()


def test_the_readme_shows_the_user_example_as_it_is_tested() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    assert _code(EXAMPLE.read_text(encoding="utf-8")) in [_code(b) for b in blocks if ANCHOR in b]


def test_the_user_example_type_checks_under_strict_on_its_own(tmp_path: pathlib.Path) -> None:
    user_file = tmp_path / "test_my_store.py"
    shutil.copy(EXAMPLE, user_file)
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(user_file)]
    # An editable install hides the packages behind an import hook that mypy cannot follow.
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found in 1 source file" in result.stdout
