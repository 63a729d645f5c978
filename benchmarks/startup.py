"""Benchmark: wall time of `cervixwatch assess` from a cold process, against importing the
clinical core alone.

    uv run python benchmarks/startup.py [--runs 20] [--warmup 2] [--bundle PATH]

Each figure is the wall time of a fresh Python process, from start to exit, as a clinician's
shell would see it (the console script run by this interpreter, so `uv run`'s own start-up is
not counted):

1. baseline: `python -c "import cervixwatch.clinical.assessment"`, the pure clinical core;
2. `python -c "import cervixwatch.cli"`: the command line's imports, nothing run;
3. `cervixwatch assess BUNDLE --as-of 2026-02-02 --format json` and `--format text`;
4. `cervixwatch rules --format json`;
5. `python -c pass`, the interpreter alone (informative).

The commands run in rounds, one run of each per round, the order rotated from round to round
so that a slow spell of a shared machine falls on all of them; `--warmup` rounds first (not
counted: the file cache). Figures are the median and the 90th percentile of `--runs` rounds,
and their ratio to the baseline's; beside them the median CPU time (user + system, from
`getrusage`), which moves less than wall time on a busy machine. Not pinned to a core: this is
the start-up a shell sees. Before timing, each command is run once with
`-X importtime` and what it imports is checked: `assess` and `rules` must not import the
database, web, account or demo code (issue 10; tests/unit/test_cli_startup.py checks the same).
See docs/performance.md, "CLI start-up".
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from assess import cpu_model
from cervixwatch.cli import PURE_PATH_EXCLUDES

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BUNDLE = ROOT / "tests" / "scenarios" / "vignettes" / "V01-prior-sptb-30w-cl-22mm"
AS_OF = "2026-02-02"

#: Modules that the pure path (`assess`, `rules`) must not import (cli.py's list).
HEAVY = PURE_PATH_EXCLUDES


@dataclass
class Figure:
    label: str
    argv: list[str]
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p90(self) -> float:
        return statistics.quantiles(self.times, n=10, method="inclusive")[-1]


def console_script() -> Path:
    script = Path(sys.executable).parent / "cervixwatch"
    if not script.exists():
        raise SystemExit(f"the cervixwatch console script is not installed in {script.parent}")
    return script


def figures(bundle: Path) -> list[Figure]:
    python, script = sys.executable, str(console_script())
    assess = [python, script, "assess", str(bundle), "--as-of", AS_OF, "--format"]
    return [
        Figure(
            "baseline: import cervixwatch.clinical.assessment",
            [python, "-c", "import cervixwatch.clinical.assessment"],
        ),
        Figure("import cervixwatch.cli", [python, "-c", "import cervixwatch.cli"]),
        Figure("cervixwatch assess --format json", [*assess, "json"]),
        Figure("cervixwatch assess --format text", [*assess, "text"]),
        Figure("cervixwatch rules --format json", [python, script, "rules", "--format", "json"]),
        Figure("python -c pass (interpreter only)", [python, "-c", "pass"]),
    ]


def imported_modules(argv: Sequence[str]) -> set[str]:
    """Every module the command's process imports, from its `-X importtime` lines."""
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.splitlines()[-5:])
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{tail}")
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line and "self [us]" not in line
    }


def heavy_among(modules: set[str]) -> list[str]:
    """The HEAVY packages among `modules` (top-level names, not every submodule)."""
    return [h for h in HEAVY if any(m == h or m.startswith(f"{h}.") for m in modules)]


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(argv: Sequence[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run, in seconds."""
    cpu = cpu_of_children()
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}")
    return elapsed, cpu_of_children() - cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=20, help="timed rounds")
    parser.add_argument("--warmup", type=int, default=2, help="rounds run first, not timed")
    parser.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE / "bundle.json")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit with status 2 when assess or rules imports database, web or demo code",
    )
    args = parser.parse_args(argv)
    if args.runs < 2 or args.warmup < 0:
        parser.error("--runs must be at least 2 and --warmup at least 0")

    print("CervixWatch CLI start-up benchmark (fresh processes)")
    print(f"  CPU: {cpu_model()} x{os.cpu_count()}, not pinned (start-up as a shell sees it)")
    print(
        f"  Python {platform.python_version()} ({platform.python_implementation()}); "
        f"typer {version('typer')}, rich {version('rich')}, pydantic {version('pydantic')}, "
        f"PyYAML {version('pyyaml')}"
    )
    print(f"  bundle: {args.bundle}; {args.runs} rounds after {args.warmup} warm-up rounds")

    rows = figures(args.bundle)
    offending = []
    print("\nwhat each command imports (-X importtime, one run):")
    for row in rows:
        modules = imported_modules(row.argv)
        heavy = heavy_among(modules)
        cervixwatch = sum(1 for m in modules if m.split(".")[0] == "cervixwatch")
        print(
            f"  {row.label}: {len(modules)} modules ({cervixwatch} of cervixwatch); "
            f"database/web/demo: {', '.join(heavy) or 'none'}"
        )
        if heavy:
            offending.append(row.label)

    for round_ in range(args.warmup + args.runs):
        shift = round_ % len(rows)
        for row in rows[shift:] + rows[:shift]:
            elapsed, cpu = run_once(row.argv)
            if round_ >= args.warmup:
                row.times.append(elapsed)
                row.cpu.append(cpu)

    baseline = rows[0]
    table = [("figure", "median", "p90", "median / baseline", "p90 / baseline", "CPU median")]
    for row in rows:
        table.append(
            (
                row.label,
                f"{row.median * 1000:.0f} ms",
                f"{row.p90 * 1000:.0f} ms",
                f"{row.median / baseline.median:.2f}x",
                f"{row.p90 / baseline.p90:.2f}x",
                f"{statistics.median(row.cpu) * 1000:.0f} ms",
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    print()
    for line in table:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    if offending:
        print(f"\nNOT MET: database, web or demo code imported by {'; '.join(offending)}")
    return 2 if args.strict and offending else 0


if __name__ == "__main__":
    sys.exit(main())
