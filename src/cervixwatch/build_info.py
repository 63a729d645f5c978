"""Which build of CervixWatch runs here: the source, or the compiled build of its hot path.

`make compiled` builds a wheel in which the rules engine (`clinical/`), the FHIR reader
(`interop/`) and a population run's rows (`app/population_rows.py`) are C extension modules
made by mypyc from their type annotations (pyproject.toml,
`[tool.hatch.build.targets.wheel.hooks.mypyc]`; docs/performance.md, "Compiled with mypyc").
The two builds give the same answers (tests/compiled); the compiled one is faster. Benchmarks
and `cervixwatch --version` say which one they ran, so that a figure is never read as the
other build's.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util

from cervixwatch import __version__

#: What the compiled build compiles, each with one of its modules: where that module was
#: loaded from tells the build.
COMPILED_PARTS = {
    "clinical/": "cervixwatch.clinical.assessment",
    "interop/": "cervixwatch.interop.fhir_bundle",
    "app/population_rows.py": "cervixwatch.app.population_rows",
}


def compiled_parts() -> list[str]:
    """The parts of `COMPILED_PARTS` that run as extension modules here."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    compiled = []
    for part, module in COMPILED_PARTS.items():
        spec = importlib.util.find_spec(module)
        if spec is not None and (spec.origin or "").endswith(suffixes):
            compiled.append(part)
    return compiled


def describe_build() -> str:
    """One line: the version, and what is compiled ("cervixwatch 0.1.0, source (not
    compiled)", "cervixwatch 0.1.0, compiled with mypyc: clinical/, interop/, ...")."""
    compiled = compiled_parts()
    if not compiled:
        return f"cervixwatch {__version__}, source (not compiled)"
    return f"cervixwatch {__version__}, compiled with mypyc: {', '.join(compiled)}"
