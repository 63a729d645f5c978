"""The compiled build (`make compiled`; pyproject.toml's mypyc build hook) built as production
builds it, then held to the source: the same answers, woman by woman, and the rules engine's
and reader's own tests passing on it.

mypyc compiles `clinical/` and `interop/` from their type annotations into C; where Python's
semantics and mypyc's differ (a method borrowed by assignment, a ClassVar on a dataclass), the
compiled build can answer differently from the source the rest of the suite tests. This module
builds the wheel once (about two minutes of gcc on one core), unpacks it, and runs it in
processes of its own beside the source.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIGESTS = Path(__file__).with_name("digests.py")
WOMEN = 1500
COMPILED = "compiled with mypyc: clinical/, interop/, app/population_rows.py"


def _uv() -> list[str]:
    """uv as `make test` runs it (CERVIXWATCH_UV, which may be `python3 -m uv`), else on PATH."""
    named = os.environ.get("CERVIXWATCH_UV") or shutil.which("uv")
    if not named:
        pytest.skip("uv not found: run the suite with `make test` (it sets CERVIXWATCH_UV)")
    return shlex.split(named)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compiled wheel, built from the sdist as `make compiled` builds it, unpacked: a
    directory to put first on PYTHONPATH."""
    if not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("no C compiler (cc/gcc): mypyc cannot build; install gcc")
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        pytest.skip("Python.h missing: mypyc needs the Python headers (python3-dev)")
    out = tmp_path_factory.mktemp("compiled")
    built = subprocess.run(
        [*_uv(), "build", "--quiet", "--out-dir", str(out / "dist")],
        cwd=ROOT,
        env={**os.environ, "HATCH_BUILD_HOOK_ENABLE_MYPYC": "true"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (out / "dist").glob("cervixwatch-*.whl")
    assert "none-any" not in wheel.name, f"{wheel.name}: a pure-Python wheel, nothing compiled"
    site = out / "site"
    with zipfile.ZipFile(wheel) as unpacked:
        unpacked.extractall(site)
    return site


def _run(arguments: list[str], compiled: Path | None) -> subprocess.CompletedProcess[str]:
    """`python ARGUMENTS` on the compiled build (its directory first on the path) or the source."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if compiled is not None:
        env["PYTHONPATH"] = str(compiled)
    return subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_the_wheel_holds_the_rules_engine_and_the_reader_compiled(compiled: Path) -> None:
    version = ["-c", "from cervixwatch.cli import app; app(['--version'])"]
    said = _run(version, compiled)
    assert said.returncode == 0, said.stderr
    assert said.stdout.strip().endswith(COMPILED)
    source = _run(version, None)
    assert source.stdout.strip().endswith("source (not compiled)")
    for package in ("clinical", "interop"):
        modules = {p.name.split(".")[0] for p in (compiled / "cervixwatch" / package).iterdir()}
        extensions = {
            p.name.split(".")[0] for p in (compiled / "cervixwatch" / package).glob("*.so")
        }
        assert extensions == modules - {"__pycache__"}, f"{package}/: not all compiled"
    assert list((compiled / "cervixwatch" / "app").glob("population_rows.*.so"))
    assert not list((compiled / "cervixwatch" / "app").glob("population.*.so"))


def test_every_woman_assessed_alike_by_both_builds(compiled: Path) -> None:
    """1,500 SYNTHETIC women on three days each: the assessment JSON and the population rows
    of the compiled build are those of the source, byte for byte (their digests)."""
    lines = {}
    for build in (compiled, None):
        done = _run([str(DIGESTS), str(WOMEN), "5"], build)
        assert done.returncode == 0, done.stderr[-3000:]
        lines[build is None] = done.stdout.splitlines()
    by_source, by_compiled = lines[True], lines[False]
    assert by_compiled[0].endswith(COMPILED)
    assert by_source[0].endswith("source (not compiled)")
    assert len(by_source) == 1 + 3 * WOMEN
    differ = [a for a, b in zip(by_source[1:], by_compiled[1:], strict=True) if a != b]
    assert not differ, f"{len(differ)} differ, first: {differ[:3]}"


def test_the_rules_engines_and_readers_own_tests_pass_compiled(compiled: Path) -> None:
    """The unit tests of clinical/, interop/ and the knowledge files, the clinical lead's
    vignettes, and the population run's own tests (its rows), run against the compiled
    build."""
    done = _run(
        [
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "tests/unit/clinical",
            "tests/unit/interop",
            "tests/unit/knowledge",
            "tests/scenarios",
            "tests/population/test_population_run.py",
        ],
        compiled,
    )
    tail = done.stdout[-3000:]
    assert done.returncode == 0, tail
    assert " passed" in tail, tail
    assert "skipped" not in tail.splitlines()[-1], tail
