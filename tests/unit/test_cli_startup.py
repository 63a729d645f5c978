"""`cervixwatch assess` and `cervixwatch rules` start on the pure path (issue 10): importing the
CLI, and running those commands as a user does, imports none of the database, web, account or
demo code. Each check runs a fresh interpreter and looks at module names, never at times (the
start-up time is measured by benchmarks/startup.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cervixwatch.cli import PURE_PATH_EXCLUDES

SCENARIO = Path(__file__).parents[1] / "scenarios" / "vignettes" / "V01-prior-sptb-30w-cl-22mm"
BUNDLE = SCENARIO / "bundle.json"
AS_OF = "2026-02-02"

#: What the pure path must not import (one list, in cli.py, that the start-up benchmark
#: checks too).
HEAVY = PURE_PATH_EXCLUDES


def heavy_among(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY))


def console_script() -> Path:
    """The installed `cervixwatch` command (a Python script beside the interpreter)."""
    script = Path(sys.executable).parent / "cervixwatch"
    assert script.exists(), f"the cervixwatch console script is not installed in {script.parent}"
    return script


def run_with_importtime(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the console script in a fresh interpreter with `-X importtime`; its result and the
    name of every module the process imported (read from the importtime lines on stderr)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(console_script()), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return done, modules


def test_importing_the_cli_imports_no_database_web_or_demo_code() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys; import cervixwatch.cli; print(json.dumps(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    modules = set(json.loads(done.stdout))
    assert "cervixwatch.cli" in modules
    assert heavy_among(modules) == []


@pytest.mark.parametrize(
    "args",
    [
        ("assess", str(BUNDLE), "--as-of", AS_OF, "--format", "json"),
        ("assess", str(BUNDLE), "--as-of", AS_OF, "--format", "text"),
        ("rules", "--format", "json"),
        ("rules", "--guideline", "nice"),
    ],
    ids=["assess-json", "assess-text", "rules-json", "rules-text"],
)
def test_assess_and_rules_run_without_database_web_or_demo_code(args: tuple[str, ...]) -> None:
    done, modules = run_with_importtime(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()
    assert {"cervixwatch.cli", "cervixwatch.clinical.assessment"} <= modules
    assert heavy_among(modules) == []


def test_the_other_commands_are_still_there_and_load_what_they_need() -> None:
    """The check above can see a heavy import: `db --help` makes one (the `db` group is loaded
    only when asked for), and the full help still lists every command in its order."""
    done, modules = run_with_importtime("db", "--help")
    assert done.returncode == 0, done.stderr[-2000:]
    assert {"sqlalchemy", "cervixwatch.store", "cervixwatch.service_cli"} <= modules

    listed = subprocess.run(
        [str(console_script()), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1"},
    ).stdout
    names = ["assess", "rules", "demo-data", "demo-accounts", "refresh", "serve", "demo"]
    names += ["db", "users"]
    # A command's row starts with its name (a wrapped line of help starts with spaces).
    rows = [re.match(r"│ (\S+) ", line) for line in listed.splitlines()]
    assert [row[1] for row in rows if row and row[1] in names] == names, listed
