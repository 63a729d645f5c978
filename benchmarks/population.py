"""Benchmark: the population run over a registry's Bulk Data export, side by side with its
baselines (issue 15, "How it is checked").

    uv run python benchmarks/population.py [--pregnancies 1000000] [--spark] [--keep DIR]
    uv run python benchmarks/population.py --quick      # 20,000 pregnancies: a smoke run

1. `cervixwatch demo-data --out DIR --bulk` writes the SYNTHETIC registry (one NDJSON file per
   resource type and a manifest, streamed: never held in memory). Timed apart, not compared.
2. **Bare scan**: DuckDB reads every line of every file as JSON (`read_ndjson_objects`) and
   counts them: the least any engine reading these files can cost. The limit of issue 15:
   the DuckDB engine within 4x of it.
3. **DuckDB engine**, end to end (`cervixwatch population run --engine duckdb`, as a process,
   one assessing worker per CPU): grouping by woman, the one reader, `assess`, the Parquet.
   Target: within 3 minutes for 1,000,000 pregnancies on this 2-vCPU machine.
4. **Conventional pipeline**, on a sample of women, scaled to the registry: each resource
   parsed with `fhir.resources` (R4B models, validated), then the same reader and `assess`.
   Target: the DuckDB engine at least 20x faster.
5. **Assessment alone** per core, from FHIR JSON (one process, the sample's women as their
   resources' JSON text, through `population.assess_chunk` as a worker of the engine runs
   it: parsed, read, assessed, rows written as JSON): target 10,000 pregnancies/s per core.
6. With `--spark`: the Spark engine at `local[1]` and `local[2]`, and the scaling between them.

Each run prints its wall time, its rate and the peak resident memory of its process tree
(the run's own process and, for the engines, its workers: `ru_maxrss` of the children), which
must not grow with the number of pregnancies. Figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson

from cervixwatch.app.population import CHUNK, assess_chunk, start_worker
from cervixwatch.app.population_rows import rows_of_woman
from cervixwatch.build_info import describe_build
from cervixwatch.interop.bulk_layout import bulk_files
from cervixwatch.knowledge import bundled_evidence, bundled_profiles

DEFAULT_SEED = 2026
SAMPLE_WOMEN = 2_000
END_TO_END_TARGET_S = 180.0  # for 1,000,000 pregnancies
SCAN_RATIO_LIMIT = 4.0
CONVENTIONAL_RATIO_TARGET = 20.0
PER_CORE_TARGET = 10_000.0


@dataclass(frozen=True, slots=True)
class Timed:
    name: str
    seconds: float
    items: int
    peak_mb: float

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


def _cli() -> str:
    return str(Path(sys.executable).parent / "cervixwatch")


def _peak_self_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: Runs a command and prints the largest resident set of its process tree (kB): measured in
#: a fresh process per command, so one run's peak never hides the next one's.
_MEASURED = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


def _run(command: Sequence[str], name: str, items: int) -> Timed:
    """A command timed as a process, with the peak memory of its process tree."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", _MEASURED, *command], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{name} failed:\n{completed.stderr[-2000:]}")
    peak_kb = int(completed.stderr.strip().splitlines()[-1])
    return Timed(name, seconds, items, peak_kb / 1024)


def generate(directory: Path, pregnancies: int, seed: int) -> Timed:
    return _run(
        [
            _cli(),
            "demo-data",
            "--out",
            str(directory),
            "--bulk",
            "--patients",
            str(pregnancies),
            "--seed",
            str(seed),
        ],
        "generate the export (demo-data --bulk)",
        pregnancies,
    )


def bare_scan(directory: Path, pregnancies: int) -> Timed:
    files = [str(f.path) for f in bulk_files(directory)]
    started = time.perf_counter()
    connection = duckdb.connect()
    try:
        found = connection.execute(
            "SELECT count(*) FROM read_ndjson_objects($files)", {"files": files}
        ).fetchone()
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    assert found is not None
    assert found[0] > 0
    return Timed(
        f"bare DuckDB scan ({found[0]:,} resources)", seconds, pregnancies, _peak_self_mb()
    )


def engine_run(directory: Path, out: Path, pregnancies: int, engine: str, master: str) -> Timed:
    command = [
        _cli(),
        "population",
        "run",
        "--input",
        str(directory),
        "--out",
        str(out),
        "--engine",
        engine,
    ]
    if engine == "spark":
        command += ["--spark-master", master]
    label = f"{engine} engine" + (f" {master}" if engine == "spark" else "")
    return _run(command, label, pregnancies)


def _sample(directory: Path, women: int, seed: int) -> list[list[dict[str, object]]]:
    """The resources of `women` women picked at random, grouped per woman (not timed)."""
    by_woman: dict[str, list[dict[str, object]]] = {}
    ids: list[str] = []
    patients = next(f.path for f in bulk_files(directory) if f.path.name == "Patient.ndjson")
    with patients.open("rb") as lines:
        for line in lines:
            ids.append(orjson.loads(line)["id"])
    chosen = set(random.Random(seed).sample(ids, min(women, len(ids))))
    for bulk in bulk_files(directory):
        with bulk.path.open("rb") as lines:
            for line in lines:
                resource_ = orjson.loads(line)
                owner = resource_["id"] if resource_["resourceType"] == "Patient" else None
                if owner is None:  # as the engine groups them (population.GROUPED_BY_WOMAN)
                    named = next(
                        (
                            r
                            for key in ("subject", "patient", "for")
                            if isinstance(r := resource_.get(key), dict)
                        ),
                        {},
                    )
                    owner = str(named.get("reference", "")).rpartition("/")[2]
                if owner in chosen:
                    by_woman.setdefault(owner, []).append(resource_)
    return list(by_woman.values())


def _model(resource_type: str) -> type:
    module = __import__(f"fhir.resources.R4B.{resource_type.lower()}", fromlist=[resource_type])
    model: type = getattr(module, resource_type)
    return model


def conventional(sample: list[list[dict[str, object]]], pregnancies: int) -> Timed:
    """Each resource parsed and validated by `fhir.resources`, then read and assessed."""
    profiles, evidence = list(bundled_profiles().values()), bundled_evidence()
    as_of = _today()
    models: dict[str, type] = {}
    raw = [[orjson.dumps(r) for r in woman] for woman in sample]
    started = time.perf_counter()
    for woman, lines in zip(sample, raw, strict=True):
        for resource_, line in zip(woman, lines, strict=True):
            kind = str(resource_["resourceType"])
            model = models.get(kind) or models.setdefault(kind, _model(kind))
            model.model_validate_json(line)  # type: ignore[attr-defined]
        rows_of_woman(str(woman[0].get("id")), woman, as_of, profiles, evidence)
    seconds = time.perf_counter() - started
    rate = len(sample) / seconds
    return Timed(
        f"conventional pipeline (fhir.resources, then assess; {len(sample):,} women, scaled)",
        pregnancies / rate,
        pregnancies,
        _peak_self_mb(),
    )


def assessment_per_core(sample: list[list[dict[str, object]]]) -> Timed:
    """What a worker of the engine does for each woman, on one core: her resources' JSON text
    parsed, read, assessed and her rows written as JSON (`population.assess_chunk`)."""
    profiles = list(bundled_profiles())
    start_worker(None, profiles)
    as_of = _today()
    chunks = [
        [(str(i), [orjson.dumps(r).decode() for r in woman]) for i, woman in enumerate(part)]
        for part in (sample[k : k + CHUNK] for k in range(0, len(sample), CHUNK))
    ]
    assess_chunk(chunks[0][:50], as_of)  # warm-up
    started = time.perf_counter()
    for chunk in chunks:
        assess_chunk(chunk, as_of)
    seconds = time.perf_counter() - started
    return Timed(
        "assessment alone, one core, from FHIR JSON", seconds, len(sample), _peak_self_mb()
    )


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _line(t: Timed, baseline: Timed | None = None) -> str:
    ratio = f"  {t.seconds / baseline.seconds:5.1f}x the scan" if baseline else ""
    return f"  {t.name:<70} {t.seconds:8.1f} s  {t.rate:10,.0f}/s  peak {t.peak_mb:7.0f} MB{ratio}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pregnancies", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 pregnancies")
    parser.add_argument("--spark", action="store_true", help="also Spark local[1] and local[2]")
    parser.add_argument("--keep", type=Path, default=None, help="keep the export in this dir")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    n = 20_000 if args.quick else args.pregnancies
    scratch = Path(tempfile.mkdtemp(prefix="population-bench-"))
    export = args.keep or scratch / "export"
    try:
        made = generate(export, n, args.seed) if not (export / "manifest.json").exists() else None
        scan = bare_scan(export, n)
        duck = engine_run(export, scratch / "duckdb", n, "duckdb", "")
        sample = _sample(export, SAMPLE_WOMEN, args.seed)
        usual = conventional(sample, n)
        alone = assessment_per_core(sample)
        sparks = (
            [engine_run(export, scratch / f"spark{k}", n, "spark", f"local[{k}]") for k in (1, 2)]
            if args.spark
            else []
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"Population run over a Bulk Data export of {n:,} SYNTHETIC pregnancies "
        f"({platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, duckdb {duckdb.__version__}):"
    )
    print(f"  build: {describe_build()}")
    if made is not None:
        print(_line(made))
    print(_line(scan))
    print(_line(duck, scan))
    print(_line(usual, scan))
    print(_line(alone))
    for spark in sparks:
        print(_line(spark, scan))
    scaled = duck.seconds * 1_000_000 / n
    verdicts = [
        (
            f"DuckDB engine {scaled:.0f} s per 1,000,000 (scaled from {n:,})",
            f"<= {END_TO_END_TARGET_S:.0f} s",
            scaled <= END_TO_END_TARGET_S,
        ),
        (
            f"DuckDB engine / bare scan = {duck.seconds / scan.seconds:.1f}x",
            f"<= {SCAN_RATIO_LIMIT:.0f}x",
            duck.seconds <= SCAN_RATIO_LIMIT * scan.seconds,
        ),
        (
            f"conventional / DuckDB engine = {usual.seconds / duck.seconds:.1f}x",
            f">= {CONVENTIONAL_RATIO_TARGET:.0f}x",
            usual.seconds >= CONVENTIONAL_RATIO_TARGET * duck.seconds,
        ),
        (
            f"assessment {alone.rate:,.0f} pregnancies/s per core",
            f">= {PER_CORE_TARGET:,.0f}/s",
            alone.rate >= PER_CORE_TARGET,
        ),
    ]
    if len(sparks) == 2:
        print(f"  Spark scaling local[1] -> local[2]: {sparks[0].seconds / sparks[1].seconds:.2f}x")
    for said, target, met in verdicts:
        print(f"  {said}: target {target}: {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
