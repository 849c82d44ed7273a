"""The README's list of hooks and capabilities is the one the code documents, word for word."""

from __future__ import annotations

import ast
import inspect
import pathlib
import re
from typing import Dict, List, Tuple

from conformance.checks.base import KitBase
from conformance.requirements import CAPABILITIES

ROOT = pathlib.Path(__file__).resolve().parents[2]
HOOK_METHODS = ("make_store", "reopen_store", "connection_string", "remove_store", "bad_connection_strings")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace("``", "`").strip()


def attribute_docs() -> Dict[str, str]:
    """KitBase's class attributes with the string literal that follows each (its docstring)."""
    source = inspect.getsource(KitBase)
    body = ast.parse(source).body[0]
    assert isinstance(body, ast.ClassDef)
    found: Dict[str, str] = {}
    for statement, following in zip(body.body, body.body[1:]):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            found[statement.target.id] = _flat(following.value.value)
    return found


def hook_rows() -> List[Tuple[str, str]]:
    """``(name, first paragraph of its docstring)`` for every hook and class attribute."""
    rows = [(f"`{name}`", _flat(str(attribute_docs()[name]))) for name in attribute_docs()]
    for name in HOOK_METHODS:
        doc = inspect.getdoc(getattr(KitBase, name)) or ""
        rows.append((f"`{name}()`", _flat(doc.split("\n\n")[0])))
    return rows


def capability_rows() -> List[Tuple[str, str]]:
    rows = []
    for capability in CAPABILITIES.values():
        rules = ", ".join(capability.rules) or "-"
        rows.append((f"`{capability.name}`", f"{rules} | {_flat(capability.description)}"))
    return rows


def _readme_table(heading: str) -> List[Tuple[str, str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index(heading) :]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("| `"):
            name, _, rest = line[2:-2].partition(" | ")
            rows.append((name, _flat(rest)))
        elif rows and not line.startswith("|"):
            break
    return rows


def test_every_hook_documents_itself() -> None:
    for name in HOOK_METHODS:
        assert inspect.getdoc(getattr(KitBase, name)), f"KitBase.{name} has no docstring"
    assert set(attribute_docs()) >= {"store_class", "connection_template", "ordered_results", "process_local"}


def test_the_readme_lists_the_hooks_as_their_docstrings_say() -> None:
    assert _readme_table("#### Hooks and class attributes") == hook_rows()


def test_the_readme_lists_the_capabilities_of_the_registry() -> None:
    assert _readme_table("#### Capabilities") == capability_rows()
