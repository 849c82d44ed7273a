"""The package layers: tracestore depends on nothing of ours, the others on tracestore alone."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
from typing import Dict, Set

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
OURS = {"tracestore", "conformance", "reference_stores", "tests"}
ALLOWED: Dict[str, Set[str]] = {
    "tracestore": {"tracestore"},
    "conformance": {"tracestore", "conformance"},
    "reference_stores": {"tracestore", "reference_stores"},
}
# The CLI's default store is named by an import path string, never imported statically.
MONKEYTYPE_ALLOWED = {"tracestore/monkeytype.py", "tracestore/monkeytype_config.py"}


def _imported_modules(path: pathlib.Path) -> Set[str]:
    """The dotted names a file imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            assert node.module is not None
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _imports(path: pathlib.Path) -> Set[str]:
    return {name.split(".")[0] for name in _imported_modules(path)}


# Each store's room: a package under reference_stores (memory is one module, it needs no more).
STORE_PACKAGES = sorted(
    p.name for p in (ROOT / "reference_stores").iterdir() if p.is_dir() and (p / "__init__.py").exists()
)
STORE_ROOMS = [*STORE_PACKAGES, "memory"]
# What the stores share: the modules directly under reference_stores that are not a store.
SHARED_MODULES = {
    f"reference_stores.{p.stem}"
    for p in (ROOT / "reference_stores").glob("*.py")
    if p.stem not in STORE_ROOMS and p.stem != "__init__"
}


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


def test_each_store_has_its_own_package() -> None:
    assert {"sqlite", "lmdb", "postgres"} <= set(STORE_PACKAGES)
    assert SHARED_MODULES == {"reference_stores.rows"}


@pytest.mark.parametrize("store", STORE_ROOMS)
def test_a_store_imports_only_tracestore_shared_modules_and_itself(store: str) -> None:
    room = ROOT / "reference_stores" / store
    paths = sorted(room.rglob("*.py")) if room.is_dir() else [room.with_suffix(".py")]
    own = f"reference_stores.{store}"
    for path in paths:
        relative = path.relative_to(ROOT).as_posix()
        for name in _imported_modules(path):
            if name.split(".")[0] != "reference_stores":
                continue
            allowed = name == own or name.startswith(own + ".") or name in SHARED_MODULES
            # ``from reference_stores.rows import checked_rows`` also lists the imported name.
            allowed = allowed or name.rsplit(".", 1)[0] in SHARED_MODULES
            assert allowed, f"{relative} imports {name}, outside its own package and the shared modules"


def test_the_rule_checks_live_in_one_package() -> None:
    checks = ROOT / "conformance" / "checks"
    families = {p.stem for p in checks.glob("*.py")} - {"__init__"}
    assert {"basics", "query", "recency", "failures", "persistence", "concurrency", "modules", "stateful"} <= families
    assert not list((ROOT / "conformance").glob("checks_*.py"))
