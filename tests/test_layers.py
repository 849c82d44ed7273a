"""The package layers: tracestore depends on nothing of ours, the others on tracestore alone."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
from typing import Dict, Set

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
OURS = {"tracestore", "conformance", "reference_stores", "tests"}
ALLOWED: Dict[str, Set[str]] = {
    "tracestore": {"tracestore"},
    "conformance": {"tracestore", "conformance"},
    "reference_stores": {"tracestore", "reference_stores"},
}
# The CLI's default store is named by an import path string, never imported statically.
MONKEYTYPE_ALLOWED = {"tracestore/monkeytype.py", "tracestore/monkeytype_config.py"}


def _imports(path: pathlib.Path) -> Set[str]:
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_stay_in_their_layer(package: str) -> None:
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        imported = _imports(path)
        ours = imported & OURS
        assert ours <= ALLOWED[package], f"{relative} imports {sorted(ours - ALLOWED[package])}"
        if relative not in MONKEYTYPE_ALLOWED:
            assert "monkeytype" not in imported, f"{relative} imports monkeytype"


def test_importing_tracestore_imports_no_optional_dependency() -> None:
    code = (
        "import sys, tracestore, tracestore.encoding;"
        "bad = [m for m in ('monkeytype', 'conformance', 'reference_stores', 'hypothesis', 'pytest',"
        " 'lmdb', 'psycopg') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
