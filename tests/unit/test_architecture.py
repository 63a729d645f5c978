"""Imports point inward (STYLE.md): the clinical core depends on nothing but the standard
library, and no inner layer reaches out to the web layer."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "src" / "cervixwatch"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("clinical"), ids=lambda p: p.name)
def test_the_clinical_core_imports_only_the_standard_library_and_itself(path: Path) -> None:
    outside = {
        name
        for name in _imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not name.startswith("cervixwatch.clinical")
    }
    assert not outside, f"{path.name} imports {sorted(outside)}"


@pytest.mark.parametrize("layer", ["clinical", "interop", "knowledge", "store", "views", "app"])
def test_inner_layers_never_import_the_web_layer(layer: str) -> None:
    offenders = {
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in _modules(layer)
        for name in _imports(path)
        if name.split(".")[:2] in (["cervixwatch", "web"], ["cervixwatch", "cli"])
    }
    assert not offenders
