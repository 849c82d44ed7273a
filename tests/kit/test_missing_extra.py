"""Without the ``kit`` extra, ``python -m conformance`` says what to install in one line and exits 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Hide one package as if it were not installed (``find_spec`` answers None for a None entry).
RUN_WITHOUT = (
    "import runpy, sys; sys.modules[{name!r}] = None; sys.argv = ['conformance'];"
    "runpy.run_module('conformance', run_name='__main__', alter_sys=True)"
)


@pytest.mark.parametrize("missing", ["pytest", "hypothesis"])
def test_without_the_kit_extra_one_line_names_the_package_and_the_install(missing: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", RUN_WITHOUT.format(name=missing)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
    assert "pip install 'tracestore[kit]'" in lines[0]
    assert "Traceback" not in result.stderr


def test_the_console_script_goes_through_the_same_check() -> None:
    from importlib.metadata import distribution

    entry_points = distribution("tracestore").entry_points
    scripts = {ep.name: ep.value for ep in entry_points if ep.group == "console_scripts"}
    assert scripts == {"tracestore-check": "conformance.__main__:main"}
