"""Imports point inward (STYLE.md 1, DESIGN.md): each layer imports only the layers inside it.

    clinical/  (pure)            imports nothing of the project
    interop/                     only the clinical core
    store/                       the clinical core, `access/`, `settings`; no views; never runs
                                 `assess` (the app reassesses and hands the store the result)
    app/                         anything inside it; never the web or the command line
    web/                         reaches the store only through `app/`

The clinical core is `clinical/` together with `knowledge/`: clinical knowledge as data (codes,
guideline profiles, evidence), which itself imports only `clinical/`. `access/` (who is asking)
and `settings` are cross-cutting; the store, the app and the web may import them, and they
import only the clinical core themselves.

Every rule is parametrised over the modules found on disk (`rglob`), so a module added later is
checked as soon as it exists; `test_a_new_module_that_breaks_a_rule_is_caught` proves that on a
package built in a temporary directory. Imports are read from the syntax tree, relative ones
resolved, those inside functions included.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "src" / "cervixwatch"
ROOT = "cervixwatch"

#: The clinical core: what interop, the store and the app may build on.
CORE = frozenset({"clinical", "knowledge"})
#: Cross-cutting: who is asking, and the deployment's settings.
CROSS_CUTTING = frozenset({"access", "settings"})


def _module_name(path: Path, package: Path) -> list[str]:
    parts = [ROOT, *path.relative_to(package).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imported(path: Path, package: Path = PACKAGE) -> Iterator[tuple[str, str | None]]:
    """(module, name) for each import in `path`: name is what `from module import name`
    takes, None for `import module`. Relative imports are resolved to absolute ones."""
    here = _module_name(path, package)
    container = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = container[: len(container) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                yield module, alias.name


def _layer(module: str, name: str | None, package: Path) -> str | None:
    """The part of the project an import reaches: "store" for `cervixwatch.store.models` and
    for `from cervixwatch import store`; "" for the package root (`__version__`); None for
    anything outside the project."""
    parts = module.split(".")
    if parts[0] != ROOT:
        return None
    if len(parts) > 1:
        return parts[1]
    if name and ((package / name).is_dir() or (package / f"{name}.py").is_file()):
        return name
    return ""


def _project_imports(path: Path, package: Path) -> Iterator[tuple[str, str, str | None]]:
    """(layer, module, name) of each import of the project by `path`."""
    for module, name in _imported(path, package):
        layer = _layer(module, name, package)
        if layer is not None:
            yield layer, module, name


def _spelled(module: str, name: str | None) -> str:
    return module if name is None else f"{module}.{name}"


def _modules(layer: str, package: Path = PACKAGE) -> list[Path]:
    return sorted((package / layer).rglob("*.py"))


def _ids(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


# Each rule: the imports of one module that break it, spelled out for the failure message.
Rule = Callable[[Path, Path], list[str]]


def clinical_rule(path: Path, package: Path) -> list[str]:
    """`clinical/` imports the standard library and itself, nothing else at all."""
    return sorted(
        _spelled(module, name)
        for module, name in _imported(path, package)
        if module.split(".")[0] not in sys.stdlib_module_names
        and _layer(module, name, package) != "clinical"
    )


def knowledge_rule(path: Path, package: Path) -> list[str]:
    """`knowledge/` (part of the core) imports only `clinical/` and itself."""
    return sorted(
        _spelled(module, name)
        for layer, module, name in _project_imports(path, package)
        if layer not in CORE
    )


def interop_rule(path: Path, package: Path) -> list[str]:
    """`interop/` imports only the clinical core (and itself)."""
    return sorted(
        _spelled(module, name)
        for layer, module, name in _project_imports(path, package)
        if layer not in CORE | {"interop"}
    )


def cross_cutting_rule(path: Path, package: Path) -> list[str]:
    """`access/` and `settings` import only the clinical core (and themselves)."""
    return sorted(
        _spelled(module, name)
        for layer, module, name in _project_imports(path, package)
        if layer not in CORE | CROSS_CUTTING
    )


def store_rule(path: Path, package: Path) -> list[str]:
    """The store is persistence: it imports the clinical core, `access/`, `settings` and
    itself (no views, no use cases, no web), and never imports `assess` to run it."""
    return sorted(
        _spelled(module, name)
        for layer, module, name in _project_imports(path, package)
        if layer not in CORE | CROSS_CUTTING | {"store"}
        or (layer == "clinical" and name == "assess")
    )


def web_rule(path: Path, package: Path) -> list[str]:
    """The web reaches the store only through `app/`."""
    return sorted(
        _spelled(module, name)
        for layer, module, name in _project_imports(path, package)
        if layer == "store"
    )


def inner_rule(path: Path, package: Path) -> list[str]:
    """Nothing below the web imports the web or the command line."""
    return sorted(
        _spelled(module, name)
        for layer, module, name in _project_imports(path, package)
        if layer in {"web", "cli", "service_cli", "users_cli", "serving"}
    )


def _check(rule: Rule, path: Path) -> None:
    offending = rule(path, PACKAGE)
    why = " ".join((rule.__doc__ or rule.__name__).split())
    assert not offending, f"{_ids(path)} breaks the rule ({why}): imports {offending}"


@pytest.mark.parametrize("path", _modules("clinical"), ids=_ids)
def test_the_clinical_core_imports_only_the_standard_library_and_itself(path: Path) -> None:
    _check(clinical_rule, path)


@pytest.mark.parametrize("path", _modules("knowledge"), ids=_ids)
def test_clinical_knowledge_imports_only_the_clinical_core(path: Path) -> None:
    _check(knowledge_rule, path)


@pytest.mark.parametrize("path", _modules("interop"), ids=_ids)
def test_interop_imports_only_the_clinical_core(path: Path) -> None:
    _check(interop_rule, path)


@pytest.mark.parametrize("path", [*_modules("access"), PACKAGE / "settings.py"], ids=_ids)
def test_cross_cutting_modules_import_only_the_clinical_core(path: Path) -> None:
    _check(cross_cutting_rule, path)


@pytest.mark.parametrize("path", _modules("store"), ids=_ids)
def test_the_store_imports_no_views_and_runs_no_assessment(path: Path) -> None:
    _check(store_rule, path)


@pytest.mark.parametrize("path", _modules("web"), ids=_ids)
def test_the_web_reaches_the_store_only_through_the_app(path: Path) -> None:
    _check(web_rule, path)


@pytest.mark.parametrize(
    "path",
    [
        path
        for layer in ["clinical", "interop", "knowledge", "store", "views", "app", "access"]
        for path in _modules(layer)
    ],
    ids=_ids,
)
def test_inner_layers_never_import_the_web_layer(path: Path) -> None:
    _check(inner_rule, path)


@pytest.mark.parametrize(
    ("rule", "layer", "source"),
    [
        (clinical_rule, "clinical", "from cervixwatch.knowledge import codes\n"),
        (clinical_rule, "clinical", "import sqlalchemy\n"),
        (knowledge_rule, "knowledge", "from cervixwatch.views.json_view import assessment_json\n"),
        (interop_rule, "interop", "from cervixwatch.store.models import PatientRow\n"),
        (interop_rule, "interop", "from ...app import importing\n"),
        (cross_cutting_rule, "access", "from cervixwatch.store import accounts\n"),
        (store_rule, "store", "from cervixwatch.views.json_view import assessment_json\n"),
        (store_rule, "store", "from ...views import json_view\n"),
        (store_rule, "store", "from cervixwatch import app\n"),
        (store_rule, "store", "from cervixwatch.clinical.assessment import assess\n"),
        (web_rule, "web", "from cervixwatch.store.models import Role\n"),
        (web_rule, "web", "def late():\n    from cervixwatch import store\n"),
        (web_rule, "web", "from ...store import accounts\n"),
        (inner_rule, "app", "from cervixwatch.web.deps import SessionsDep\n"),
    ],
    ids=lambda value: value.__name__ if callable(value) else " ".join(value.split()),
)
def test_a_new_module_that_breaks_a_rule_is_caught(
    rule: Rule, layer: str, source: str, tmp_path: Path
) -> None:
    """A package laid out like ours, with one new module (two folders deep, so relative
    imports resolve as in a subpackage) that breaks the rule: it is found and named."""
    package = tmp_path / ROOT
    for name in [*CORE, "access", "interop", "store", "views", "app", "web"]:
        (package / name).mkdir(parents=True)
        (package / name / "__init__.py").touch()
    (package / "settings.py").touch()
    (package / layer / "new").mkdir()
    new = package / layer / "new" / "module.py"
    new.write_text(source, encoding="utf-8")
    assert new in _modules(layer, package)
    assert rule(new, package), f"{rule.__name__} missed {source!r}"


def test_every_layer_is_checked() -> None:
    """The parametrised rules above found modules to check (a moved folder would otherwise
    leave a rule with nothing to look at, passing)."""
    for layer in ["clinical", "knowledge", "interop", "access", "store", "views", "app", "web"]:
        assert _modules(layer), f"no modules under {layer}/"
