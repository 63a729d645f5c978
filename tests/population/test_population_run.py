"""`cervixwatch demo-data --bulk` and `cervixwatch population run` on DuckDB (issue 15,
parts 2 and 5): the export's layout, and rows that are exactly what the app's own reader and
`assess` say of each woman."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from typer.testing import CliRunner

from cervixwatch.app.population import run_population
from cervixwatch.app.population_rows import bundle_of, rows_of_woman
from cervixwatch.cli import app
from cervixwatch.clinical.assessment import assess
from cervixwatch.cohort import bundle_bytes, iter_cohort
from cervixwatch.cohort.bulk import write_bulk
from cervixwatch.interop.bulk_layout import ndjson_resources
from cervixwatch.interop.fhir_bundle import read_bundle, records_from_bundle, records_from_resources
from cervixwatch.interop.intake import IntakeError
from cervixwatch.knowledge import bundled_evidence, bundled_profiles

AS_OF = dt.date(2026, 12, 1)
WOMEN = 60
PROFILES = list(bundled_profiles().values())


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("bulk")
    write_bulk(iter_cohort(WOMEN, 9, AS_OF), directory, AS_OF)
    return directory


def _rows(parquet: Path) -> list[dict[str, Any]]:
    relation = duckdb.sql(f"SELECT * FROM read_parquet('{parquet}') ORDER BY patient_id, profile")
    names = relation.columns
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


def test_the_export_is_a_bulk_data_layout_with_ids_unique_and_references_resolved(
    export: Path,
) -> None:
    manifest = orjson.loads((export / "manifest.json").read_bytes())
    assert manifest["requiresAccessToken"] is False
    assert manifest["error"] == []
    ids: set[str] = set()
    references: set[str] = set()
    for entry in manifest["output"]:
        lines = list(ndjson_resources(export / entry["url"]))
        assert len(lines) == entry["count"] > 0
        for _, resource in lines:
            assert resource["resourceType"] == entry["type"]
            key = f"{resource['resourceType']}/{resource['id']}"
            assert key not in ids, f"{key} twice"
            ids.add(key)
            references |= _references(resource)
    assert sum(1 for k in ids if k.startswith("Patient/")) == WOMEN
    assert references <= ids, sorted(references - ids)[:5]


def _references(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["reference"]} if isinstance(node.get("reference"), str) else set()
        for value in node.values():
            found |= _references(value)
        return found
    if isinstance(node, list):
        return set().union(*(_references(item) for item in node)) if node else set()
    return set()


def test_each_row_is_what_the_app_says_of_her_own_bundle(export: Path, tmp_path: Path) -> None:
    """Grouped by DuckDB out of the export, her pregnancy assesses exactly as her own Bundle
    does through the app's reader and `assess`: one row per profile."""
    run = run_population(export, tmp_path, AS_OF, PROFILES, workers=1)
    assert (run.women, run.rows, run.refused) == (WOMEN, WOMEN * len(PROFILES), 0)
    rows = {(r["patient_id"], r["profile"]): r for r in _rows(run.parquet)}
    evidence = bundled_evidence()
    for patient in iter_cohort(WOMEN, 9, AS_OF):
        records = read_bundle(bundle_bytes(patient), AS_OF)
        assessment = assess(records, AS_OF, PROFILES, evidence)
        for profile in PROFILES:
            row = rows[(records.patient_id, profile.id)]
            mine = [r for r in assessment.recommendations if r.guideline == profile.id]
            assert row["codes"] == sorted({r.code for r in mine})
            assert row["states"] == {r.code: r.state for r in mine}
            assert row["risk_tier"] == assessment.risk.tier
            assert row["edd"] == records.edd
            assert row["ga_days"] == assessment.facts["ga_days"]
            assert row["urgent"] == ("urgent-evaluation" in row["codes"])
            assert row["error"] is None


def test_a_pool_of_processes_writes_the_same_rows(export: Path, tmp_path: Path) -> None:
    one = run_population(export, tmp_path / "one", AS_OF, PROFILES, workers=1)
    two = run_population(export, tmp_path / "two", AS_OF, PROFILES, workers=2)
    assert _rows(one.parquet) == _rows(two.parquet)


def test_another_servers_export_with_absolute_urls_and_its_own_file_names(
    export: Path, tmp_path: Path
) -> None:
    """Files named as that server names them, the manifest's URLs absolute, references
    absolute: read the same."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    manifest = orjson.loads((export / "manifest.json").read_bytes())
    for number, entry in enumerate(manifest["output"], start=1):
        name = f"{number}.{entry['type']}.ndjson"
        text = (export / entry["url"]).read_text()
        (theirs / name).write_text(
            text.replace('"reference":"Patient/', '"reference":"https://ehr.example/fhir/Patient/')
        )
        entry["url"] = f"https://ehr.example/fhir/bulkfiles/{name}"
    (theirs / "manifest.json").write_bytes(orjson.dumps(manifest))
    ours = run_population(export, tmp_path / "ours", AS_OF, PROFILES, workers=1)
    read = run_population(theirs / "manifest.json", tmp_path / "read", AS_OF, PROFILES, workers=1)
    assert _rows(read.parquet) == _rows(ours.parquet)


def test_a_woman_whose_data_the_reader_refuses_has_rows_that_say_why(
    export: Path, tmp_path: Path
) -> None:
    """A cervical length in an unknown unit is refused by the one reader: her rows carry the
    reader's message, never an assessment made without it; the others are assessed."""
    broken = tmp_path / "broken"
    shutil.copytree(export, broken)
    bad = {
        "resourceType": "Observation",
        "id": "bad-length",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "11961-0"}]},
        "subject": {"reference": "Patient/demo-000003"},
        "effectiveDateTime": "2026-11-20",
        "valueQuantity": {
            "value": 2,
            "unit": "furlong",
            "system": "http://unitsofmeasure.org",
            "code": "[fur_us]",
        },
    }
    with (broken / "Observation.ndjson").open("ab") as lines:
        lines.write(orjson.dumps(bad) + b"\n")
    run = run_population(broken, tmp_path / "out", AS_OF, PROFILES, workers=1)
    assert run.refused == 1
    rows = _rows(run.parquet)
    hers = [r for r in rows if r["patient_id"] == "demo-000003"]
    assert len(hers) == len(PROFILES)
    assert all(r["error"] and "Observation/bad-length" in r["error"] for r in hers)
    assert all(r["codes"] == [] and r["risk_tier"] is None for r in hers)
    assert sum(1 for r in rows if r["error"] is None) == (WOMEN - 1) * len(PROFILES)


def test_the_command_line(export: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(
        app,
        [
            "population",
            "run",
            "--input",
            str(export),
            "--as-of",
            "2026-12-01",
            "--out",
            str(tmp_path / "out"),
            "--workers",
            "1",
        ],
    )
    assert done.exit_code == 0, done.output
    assert len(_rows(tmp_path / "out" / "assessments.parquet")) == WOMEN * len(PROFILES)
    missing = runner.invoke(
        app,
        ["population", "run", "--input", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m")],
    )
    assert missing.exit_code == 2
    assert "no such directory or manifest" in missing.output


def _outcome(read: Any) -> Any:
    try:
        return read()
    except IntakeError as error:
        return ("refused", str(error), error.path)


def test_her_resources_read_as_the_collection_bundle_that_holds_them() -> None:
    """The population run reads a woman's resources without building her Bundle: what it reads
    (or refuses, and why) is what the reader makes of the collection Bundle of them."""
    women = [
        [e["resource"] for e in orjson.loads(bundle_bytes(patient))["entry"]]
        for patient in iter_cohort(WOMEN, 9, AS_OF)
    ]
    no_type = {"id": "x", "subject": {"reference": "Patient/demo-000001"}}
    women += [
        [*women[0], no_type],
        [*women[1], ["not", "a", "resource"]],
        [r for r in women[2] if r["resourceType"] != "Patient"],
        [*women[3], women[3][-1]],  # a resource sent twice
    ]
    for resources in women:
        expected = _outcome(lambda r=resources: records_from_bundle(bundle_of(r), AS_OF))
        assert _outcome(lambda r=resources: records_from_resources(r, AS_OF)) == expected
    refused = [_outcome(lambda r=w: records_from_resources(r, AS_OF)) for w in women[-4:-1]]
    assert [r[1] for r in refused] == [
        f"Bundle.entry[{len(women[0])}].resource: missing resourceType",
        f"Bundle.entry[{len(women[1])}]: expected an entry with a resource",
        "Bundle: no Patient resource",
    ]


def test_a_resource_with_no_type_gives_her_rows_that_say_why() -> None:
    resources: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": "p1"},
        {"id": "o1", "subject": {"reference": "Patient/p1"}},
    ]
    rows = rows_of_woman("p1", resources, AS_OF, PROFILES, bundled_evidence())
    assert [r["error"] for r in rows] == ["Bundle.entry[1].resource: missing resourceType"] * 2
