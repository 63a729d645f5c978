"""Which build of CervixWatch runs here: the source, or the compiled build of its hot path.

`make compiled` builds a wheel in which the rules engine (`clinical/`) and the FHIR reader
(`interop/`) are C extension modules made by mypyc from their type annotations (pyproject.toml,
`[tool.hatch.build.targets.wheel.hooks.mypyc]`; docs/performance.md, "Compiled with mypyc").
The two builds give the same answers (tests/compiled); the compiled one is faster. Benchmarks
and `cervixwatch --version` say which one they ran, so that a figure is never read as the
other build's.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util

from cervixwatch import __version__

#: One module of each compiled package: where it was loaded from tells the build.
COMPILED_PACKAGES = {
    "cervixwatch.clinical": "cervixwatch.clinical.assessment",
    "cervixwatch.interop": "cervixwatch.interop.fhir_bundle",
}


def compiled_packages() -> list[str]:
    """The packages of `COMPILED_PACKAGES` that run as extension modules here."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    compiled = []
    for package, module in COMPILED_PACKAGES.items():
        spec = importlib.util.find_spec(module)
        if spec is not None and (spec.origin or "").endswith(suffixes):
            compiled.append(package)
    return compiled


def describe_build() -> str:
    """One line: the version, and which packages are compiled ("cervixwatch 0.1.0, source")."""
    compiled = compiled_packages()
    if not compiled:
        return f"cervixwatch {__version__}, source (not compiled)"
    names = " and ".join(package.rsplit(".", 1)[1] + "/" for package in compiled)
    return f"cervixwatch {__version__}, compiled with mypyc: {names}"
