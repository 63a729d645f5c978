"""Benchmark: assessments per second from records, and bundles per second from FHIR JSON.

    uv run python benchmarks/assess.py [--n 100000] [--bundles 2000] [--repeat 3]

On one core (pinned where the platform allows), over SYNTHETIC pregnancies from
`benchmarks/synthetic.py`:

1. records -> assessment: `assess(records, as_of, profiles, evidence)` with both bundled
   profiles over
   `--n` pregnancies held as `PregnancyRecords`; target at least 10,000 assessments/s.
2. FHIR JSON -> assessment: `assess(read_bundle(raw, as_of), as_of, profiles, evidence)` over
   `--bundles`
   bundles serialised to JSON bytes beforehand;
3. the same bytes validated with the `fhir.resources` R4B models alone
   (`Bundle.model_validate_json(raw)`, no assessment at all).
   Target: (2) at least 5 times the throughput of (3). `read_bundle` alone is timed too, to
   show how (2) divides between reading and assessing.

Generating the data, serialising it and the correctness checks are not timed. Each figure is
the best of `--repeat` timed passes over all the items, after a warm-up pass; the garbage
collector stays on, as it would in service. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path

import orjson
from fhir.resources.R4B.bundle import Bundle

from cervixwatch.build_info import describe_build
from cervixwatch.clinical.assessment import assess
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.clinical.records import LengthMethod
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.knowledge import bundled_evidence, bundled_profiles
from synthetic import DEFAULT_SEED, SyntheticCase, synthetic_bundles, synthetic_cases

RECORDS_TARGET = 10_000.0  # assessments per second from records
RATIO_TARGET = 5.0  # bundle->assessment throughput / fhir.resources validation throughput


def pin_to_one_core() -> str:
    """Run on the first CPU this process may use; say what was done."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (os.sched_setaffinity is not available on this platform)"
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {allowed[0]})
    return f"pinned to CPU {allowed[0]} (of {len(allowed)} allowed)"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def best_of(repeat: int, run: Callable[[], None]) -> float:
    """The shortest of `repeat` timed runs, in seconds."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def describe(cases: Sequence[SyntheticCase], raws: Sequence[bytes]) -> list[str]:
    """A few figures showing what the synthetic population looks like."""
    n = len(cases)

    def share(count: int) -> str:
        return f"{100 * count / n:.1f}%"

    records = [c.records for c in cases]
    lengths = [m.length_mm for r in records for m in r.cervical_lengths]
    tv = [m for r in records for m in r.cervical_lengths if m.method is LengthMethod.TRANSVAGINAL]
    priors = statistics.mean(len(r.prior_pregnancies) for r in records)
    lines = [
        f"prior pregnancies per woman: {priors:.2f}; "
        f"cervical lengths per pregnancy: {len(lengths) / n:.2f} "
        f"(mean {statistics.mean(lengths):.1f} mm, SD {statistics.stdev(lengths):.1f}, "
        f"{share(sum(1 for r in records if r.cervical_lengths))} with any, "
        f"{100 * len(tv) / len(lengths):.0f}% transvaginal)",
        f"twins {share(sum(1 for r in records if r.fetuses == 2))}, "
        f"excision {share(sum(1 for r in records if r.excisions))}, "
        f"cerclage {share(sum(1 for r in records if r.cerclage_placements))}, "
        f"progesterone/17-OHPC {share(sum(1 for r in records if r.medications))}, "
        f"symptom report {share(sum(1 for r in records if r.symptom_reports))}, "
        f"complication {share(sum(1 for r in records if r.complications))}",
    ]
    if raws:
        entries = [len(orjson.loads(raw)["entry"]) for raw in raws]
        lines.append(
            f"bundles: {statistics.mean(entries):.1f} entries on average "
            f"(median {statistics.median(entries):g}, {min(entries)}-{max(entries)}), "
            f"{statistics.mean(len(raw) for raw in raws) / 1024:.1f} KiB of JSON on average"
        )
    return lines


def check_bundles(cases: Sequence[SyntheticCase], raws: Sequence[bytes]) -> list[str]:
    """Every bundle is valid R4B for fhir.resources and reads back as the records it came from."""
    problems: list[str] = []
    for case, raw in zip(cases, raws, strict=True):
        pid = case.records.patient_id
        try:
            Bundle.model_validate_json(raw)
        except ValueError as error:  # pydantic's ValidationError is a ValueError
            problems.append(f"{pid}: not valid for fhir.resources R4B: {error}")
            continue
        records = read_bundle(raw, case.as_of)
        # The noise adds a complication resolved before as_of: kept with its dates (CD-06), it
        # changes nothing on as_of, so only the complications active then are compared.
        records = dataclasses.replace(
            records,
            complications=tuple(c for c in records.complications if c.active_on(case.as_of)),
        )
        if records != case.records:
            differ = [
                f.name
                for f in dataclasses.fields(records)
                if getattr(records, f.name) != getattr(case.records, f.name)
            ]
            problems.append(f"{pid}: read_bundle gives different {', '.join(differ)}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=100_000, help="pregnancies held as records")
    parser.add_argument("--bundles", type=int, default=2_000, help="FHIR bundles (JSON bytes)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the best counts")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 2 when a target is not met"
    )
    args = parser.parse_args(argv)
    if args.n < 1 or args.bundles < 1 or args.repeat < 1:
        parser.error("--n, --bundles and --repeat must be at least 1")

    pinned = pin_to_one_core()
    print("CervixWatch assessment benchmark (synthetic pregnancies)")
    print(f"  CPU: {cpu_model()}; {pinned}")
    print(
        f"  Python {platform.python_version()} ({platform.python_implementation()}); "
        f"fhir.resources {version('fhir.resources')}, pydantic {version('pydantic')}, "
        f"orjson {version('orjson')}"
    )
    print(f"  build: {describe_build()}")

    profiles: list[GuidelineProfile] = list(bundled_profiles().values())
    evidence = bundled_evidence()
    started = time.perf_counter()
    cases = synthetic_cases(max(args.n, args.bundles), args.seed)
    record_items = [(c.records, c.as_of) for c in cases[: args.n]]
    bundle_cases = cases[: args.bundles]
    raws = [orjson.dumps(b) for b in synthetic_bundles(bundle_cases, args.seed)]
    bundle_items = list(zip(raws, (c.as_of for c in bundle_cases), strict=True))
    print(
        f"  generated {len(record_items):,} records and {len(raws):,} bundles "
        f"(seed {args.seed}) in {time.perf_counter() - started:.1f} s, not timed"
    )
    for line in describe(cases[: args.n], raws):
        print(f"  {line}")

    problems = check_bundles(bundle_cases, raws)
    if problems:
        print(f"\n{len(problems)} of {len(raws)} bundles failed the checks:", file=sys.stderr)
        for problem in problems[:10]:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(
        f"  checked: all {len(raws):,} bundles validate with fhir.resources R4B and "
        "read_bundle gives back exactly the records they were written from"
    )
    print(f"  profiles: {', '.join(p.id for p in profiles)}; best of {args.repeat} after warm-up")

    def run_records() -> None:
        for records, as_of in record_items:
            assess(records, as_of, profiles, evidence)

    def run_bundles() -> None:
        for raw, as_of in bundle_items:
            assess(read_bundle(raw, as_of), as_of, profiles, evidence)

    def run_read_only() -> None:
        for raw, as_of in bundle_items:
            read_bundle(raw, as_of)

    def run_validation() -> None:
        for raw in raws:
            Bundle.model_validate_json(raw)

    # Warm-up: caches, lazily built validators, branch predictors.
    for records, as_of in record_items[:2_000]:
        assess(records, as_of, profiles, evidence)
    run_bundles()
    run_validation()

    records_rate = len(record_items) / best_of(args.repeat, run_records)
    bundles_rate = len(bundle_items) / best_of(args.repeat, run_bundles)
    read_rate = len(bundle_items) / best_of(args.repeat, run_read_only)
    validation_rate = len(raws) / best_of(args.repeat, run_validation)
    ratio = bundles_rate / validation_rate

    def verdict(met: bool) -> str:
        return "met" if met else "NOT MET"

    rows = [
        (
            "records -> assessment",
            f"{records_rate:,.0f} /s",
            f">= {RECORDS_TARGET:,.0f} /s",
            verdict(records_rate >= RECORDS_TARGET),
        ),
        ("FHIR JSON -> assessment", f"{bundles_rate:,.0f} /s", "", ""),
        ("  of which FHIR JSON -> records only", f"{read_rate:,.0f} /s", "", ""),
        ("fhir.resources R4B validation only", f"{validation_rate:,.0f} /s", "", ""),
        (
            "ratio bundle->assessment / validation",
            f"{ratio:.2f}x",
            f">= {RATIO_TARGET:g}x",
            verdict(ratio >= RATIO_TARGET),
        ),
    ]
    headers = ("figure", "value", "target", "met?")
    widths = [max(len(str(r[i])) for r in (headers, *rows)) for i in range(4)]
    print()
    for row in (headers, *rows):
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(
        f"\nper item: {1e6 / records_rate:.1f} us per assessment from records, "
        f"{1e6 / bundles_rate:.1f} us per bundle to assessment "
        f"({1e6 / read_rate:.1f} us of it reading the bundle), "
        f"{1e6 / validation_rate:.1f} us per fhir.resources validation"
    )
    all_met = records_rate >= RECORDS_TARGET and ratio >= RATIO_TARGET
    return 2 if args.strict and not all_met else 0


if __name__ == "__main__":
    sys.exit(main())
