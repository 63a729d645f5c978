"""`cervixwatch population run --engine spark` (issue 15, part 2): the same run as
`app.population`'s on Apache Spark, for a registry too big for one machine.

Spark reads the export's NDJSON as lines, keys each resource by the woman it is about with the
same rule as the DuckDB engine (a Patient by its id; a record by `subject`, `patient` or `for`,
relative or absolute), groups them per woman (her resources sorted, as the DuckDB engine sorts
them, so both read each woman alike) and hands each batch of women to Python through Arrow
(`mapInArrow`), where `app.population.assess_chunk` (the very function the DuckDB engine's
processes run: `rows_of_woman`, that is `read_bundle` and `assess`) turns them into rows. The
rows are written as text by Spark; one DuckDB step reads them with the one column list
(`population_rows.COLUMNS`) and writes the single, ordered Parquet file, as the DuckDB engine
does. So the two engines differ only in where grouping and assessing happen, and their
Parquet files are equal row for row (tests/app/test_population_spark.py).

`master`: `local[*]` (every core of this machine), `local[N]`, or a cluster's URL
(`spark://host:7077`); on a cluster every executor needs this package and its knowledge
installed, as the driver has. PySpark is an optional dependency (`uv sync --group spark`).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from cervixwatch.app.population import (
    NOT_ABOUT_A_WOMAN,
    PARQUET_NAME,
    PopulationRun,
    assess_chunk,
    start_worker,
    write_parquet,
)
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.interop.bulk_layout import bulk_files

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DEFAULT_MASTER", "run_population_spark"]

DEFAULT_MASTER = "local[*]"
#: The woman a resource is about: the DuckDB engine's rule (`app.population.GROUPED_BY_WOMAN`).
_PATIENT_REFERENCE = r"(^|/)Patient/([^/]+)$"


def _session(master: str, partitions: int) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ValueError(
            "--engine spark needs PySpark: install it with `uv sync --group spark`"
        ) from None
    # The Python workers are this interpreter, so they import this package as the driver does.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    return (
        SparkSession.builder.master(master)
        .appName("cervixwatch-population")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def _assessing(knowledge: Path | None, profile_ids: list[str], as_of: dt.date) -> Any:
    """The function each Spark task runs on its batches of grouped women."""

    def assess_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        start_worker(knowledge, profile_ids)
        for batch in batches:
            women = batch.column("woman").to_pylist()
            resources = batch.column("resources").to_pylist()
            lines, _, _ = assess_chunk(list(zip(women, resources, strict=True)), as_of)
            rows = [line.decode() for line in lines.splitlines() if line]
            yield pa.RecordBatch.from_pydict(
                {"row": rows}, schema=pa.schema([("row", pa.string())])
            )

    return assess_batches


def run_population_spark(
    source: Path,
    out: Path,
    as_of: dt.date,
    profiles: Sequence[GuidelineProfile],
    *,
    knowledge: Path | None = None,
    master: str = DEFAULT_MASTER,
    partitions: int | None = None,
) -> PopulationRun:
    """As `app.population.run_population`, on Spark at `master`."""
    from pyspark.sql import functions as f

    started = time.perf_counter()
    files = [str(b.path) for b in bulk_files(source)]
    out.mkdir(parents=True, exist_ok=True)
    parquet = out / PARQUET_NAME
    spark = _session(master, partitions or max(2, os.cpu_count() or 1))
    profile_ids = [p.id for p in profiles]
    with tempfile.TemporaryDirectory(dir=out, prefix=".population-spark-") as scratch:
        try:
            lines = spark.read.text(files)
            value = f.col("value")
            kind = f.get_json_object(value, "$.resourceType")
            reference = f.coalesce(
                f.get_json_object(value, "$.subject.reference"),
                f.get_json_object(value, "$.patient.reference"),
                f.get_json_object(value, "$.for.reference"),
            )
            woman = f.when(kind == "Patient", f.get_json_object(value, "$.id")).otherwise(
                f.regexp_extract(reference, _PATIENT_REFERENCE, 2)
            )
            grouped = (
                lines.where(f.length(f.trim(value)) > 0)
                .select(woman.alias("woman"), value.alias("resource"))
                .where(f.col("woman").isNotNull() & (f.col("woman") != ""))
                .groupBy("woman")
                .agg(f.array_sort(f.collect_list("resource")).alias("resources"))
            )
            rows_dir = Path(scratch) / "rows"
            grouped.mapInArrow(_assessing(knowledge, profile_ids, as_of), "row string").write.text(
                str(rows_dir)
            )
        finally:
            spark.stop()
        connection = duckdb.connect(config={"temp_directory": scratch})
        try:
            try:
                found = connection.execute(NOT_ABOUT_A_WOMAN, {"files": files}).fetchone()
            except duckdb.Error as error:
                raise ValueError(f"{source}: the NDJSON cannot be read ({error})") from None
            stray = int(found[0]) if found else 0
            written = sorted(str(p) for p in rows_dir.glob("part-*"))
            write_parquet(connection, written, parquet)
            counted = connection.execute(
                "SELECT count(DISTINCT patient_id), count(*), "
                "count(DISTINCT patient_id) FILTER (WHERE error IS NOT NULL) "
                "FROM read_parquet($parquet)",
                {"parquet": str(parquet)},
            ).fetchone()
        finally:
            connection.close()
    women, rows, refused = (int(x) for x in counted) if counted else (0, 0, 0)
    return PopulationRun(women, rows, refused, stray, time.perf_counter() - started, parquet)
