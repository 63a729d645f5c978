"""Grouping an export per woman a range of women at a time (`app.women_grouping`): the same
women, resources and order as one GROUP BY of the whole export. (That its memory does not grow
with the export is measured by benchmarks/population.py: DuckDB allocates in blocks too large
for a test-sized export to show it.)"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from cervixwatch.app.women_grouping import Grouping, grouped_women
from cervixwatch.cohort import iter_cohort
from cervixwatch.cohort.bulk import write_bulk
from cervixwatch.interop.bulk_layout import bulk_files

AS_OF = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    directory = tmp_path_factory.mktemp("registry")
    write_bulk(iter_cohort(300, 5, AS_OF, active=100), directory, AS_OF)
    return [str(f.path) for f in bulk_files(directory)]


def _all(
    files: list[str], scratch: Path, bucket_bytes: int, patients: list[str] | None = None
) -> list[tuple[str, list[str]]]:
    connection = duckdb.connect()
    try:
        return [
            woman
            for batch in grouped_women(
                connection,
                files,
                scratch,
                batch=37,
                bucket_bytes=bucket_bytes,
                patient_files=patients or [],
            )
            for woman in batch
        ]
    finally:
        connection.close()


def test_ranges_of_women_group_as_one_group_by(files: list[str], tmp_path: Path) -> None:
    whole = _all(files, tmp_path / "one", bucket_bytes=1 << 40)
    size = sum(Path(f).stat().st_size for f in files)
    ranges = _all(files, tmp_path / "many", bucket_bytes=size // 7)
    assert (tmp_path / "many" / "women-by-range").is_dir()  # the ranges were used
    assert len(whole) == 300
    assert ranges == whole
    assert [w for w, _ in ranges] == sorted(w for w, _ in ranges)
    # Bounds read from the Patients alone split the women as well.
    patients = [f for f in files if Path(f).name.startswith("Patient")]
    assert _all(files, tmp_path / "patients", bucket_bytes=size // 7, patients=patients) == whole


def test_resources_about_no_woman_are_counted_in_either_path(
    files: list[str], tmp_path: Path
) -> None:
    strays = tmp_path / "Observation.strays.ndjson"
    strays.write_text(
        '{"resourceType":"Observation","id":"no-subject","status":"final"}\n'
        '{"resourceType":"Observation","id":"a-group","subject":{"reference":"Group/g1"}}\n'
        '{"resourceType":"Patient","id":""}\n'
    )
    every = [*files, str(strays)]
    size = sum(Path(f).stat().st_size for f in every)
    counted: dict[str, int] = {}
    for name, bucket_bytes in (("one", 1 << 40), ("many", size // 7)):
        found = Grouping()
        connection = duckdb.connect()
        try:
            grouped = grouped_women(
                connection,
                every,
                tmp_path / name,
                batch=50,
                bucket_bytes=bucket_bytes,
                found=found,
            )
            women = sum(len(batch) for batch in grouped)
        finally:
            connection.close()
        assert women == 300  # the strays are nobody's
        counted[name] = found.not_about_a_woman
    assert counted == {"one": 3, "many": 3}
