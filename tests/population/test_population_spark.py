"""`cervixwatch population run --engine spark` (issue 15, part 2): Apache Spark (PySpark,
`local[2]`, Debian's Java 17) groups and assesses a generated export, and its Parquet equals
the DuckDB engine's row for row, on 20,000 pregnancies."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cervixwatch.app.population import run_population
from cervixwatch.cli import app
from cervixwatch.cohort import iter_cohort
from cervixwatch.cohort.bulk import write_bulk
from cervixwatch.knowledge import bundled_profiles

pytest.importorskip("pyspark", reason="PySpark is installed by `make test` (uv group spark)")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java 17: `make spark-deps` installs Debian's", allow_module_level=True)

from cervixwatch.app.population_spark import run_population_spark

AS_OF = dt.date(2026, 12, 1)
PREGNANCIES = 20_000
PROFILES = list(bundled_profiles().values())


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("registry")
    # Pregnancies under way: both engines call the same `rows_of_woman`, whose reading of an
    # ended pregnancy is tested on DuckDB (test_population_outcomes.py); delivered women made
    # this test four times slower (110 s) for no engine-specific check.
    write_bulk(iter_cohort(PREGNANCIES, 15, AS_OF), directory, AS_OF)
    return directory


def _table(parquet: Path) -> tuple[list[tuple[str, str]], list[tuple[object, ...]]]:
    """The file's columns (name, type) and every row, in its own order."""
    connection = duckdb.connect()
    try:
        relation = connection.sql(f"SELECT * FROM read_parquet('{parquet}')")
        columns = list(zip(relation.columns, [str(t) for t in relation.types], strict=True))
        return columns, relation.fetchall()
    finally:
        connection.close()


def test_spark_and_duckdb_write_the_same_parquet(export: Path, tmp_path: Path) -> None:
    by_duckdb = run_population(export, tmp_path / "duckdb", AS_OF, PROFILES, workers=2)
    by_spark = run_population_spark(export, tmp_path / "spark", AS_OF, PROFILES, master="local[2]")
    assert by_spark.women == by_duckdb.women == PREGNANCIES
    assert (by_spark.rows, by_spark.refused, by_spark.not_about_a_woman) == (
        by_duckdb.rows,
        by_duckdb.refused,
        by_duckdb.not_about_a_woman,
    )
    duckdb_columns, duckdb_rows = _table(by_duckdb.parquet)
    spark_columns, spark_rows = _table(by_spark.parquet)
    assert spark_columns == duckdb_columns
    assert len(spark_rows) == PREGNANCIES * len(PROFILES)
    differing = [i for i, (a, b) in enumerate(zip(spark_rows, duckdb_rows, strict=True)) if a != b]
    assert not differing, f"{len(differing)} rows differ, the first: {spark_rows[differing[0]]}"


def test_the_command_line_runs_spark(tmp_path: Path) -> None:
    small = tmp_path / "small"
    write_bulk(iter_cohort(40, 3, AS_OF), small, AS_OF)
    done = CliRunner().invoke(
        app,
        [
            "population",
            "run",
            "--input",
            str(small),
            "--as-of",
            "2026-12-01",
            "--out",
            str(tmp_path / "out"),
            "--engine",
            "spark",
            "--spark-master",
            "local[1]",
        ],
    )
    assert done.exit_code == 0, done.output
    assert "Assessed 40 women" in done.output
    assert (tmp_path / "out" / "assessments.parquet").exists()
