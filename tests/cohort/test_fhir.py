"""The demo cohort as FHIR: valid R4B Bundles that CervixWatch's reader turns back into exactly
the records they were written from; files and NDJSON."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from cervixwatch.cohort import (
    bundle_bytes,
    cohort_bundle,
    generate_cohort,
    write_bundle_files,
    write_ndjson,
)
from cervixwatch.interop.fhir_bundle import read_bundle

REFERENCE = dt.date(2026, 3, 2)
COHORT = generate_cohort(120, seed=21, reference=REFERENCE, active=100)


@pytest.mark.parametrize("bundle_type", ["collection", "transaction"])
def test_every_bundle_is_valid_r4b_and_reads_back_to_its_records(bundle_type: str) -> None:
    for patient in COHORT:
        raw = bundle_bytes(patient, bundle_type)
        Bundle.model_validate_json(raw)
        assert read_bundle(raw, patient.as_of) == patient.records


def test_the_patient_is_marked_as_test_data_with_her_fake_hospital_number() -> None:
    patient = COHORT[0]
    bundle = cohort_bundle(patient)
    resource = bundle["entry"][0]["resource"]
    assert resource["resourceType"] == "Patient"
    assert resource["meta"]["security"][0]["code"] == "HTEST"
    assert resource["identifier"][0]["value"] == patient.hospital_number
    assert resource["name"][0]["family"] == patient.family_name


def test_a_transaction_bundle_posts_every_resource() -> None:
    bundle = cohort_bundle(COHORT[1], "transaction")
    for entry in bundle["entry"]:
        assert entry["request"] == {"method": "POST", "url": entry["resource"]["resourceType"]}


def test_files_one_per_patient_and_ndjson_one_bundle_per_line(tmp_path: Path) -> None:
    few = COHORT[:5]
    assert write_bundle_files(few, tmp_path / "bundles") == 5
    files = sorted((tmp_path / "bundles").glob("*.json"))
    assert [f.stem for f in files] == [p.records.patient_id for p in few]
    assert read_bundle(files[0].read_bytes(), few[0].as_of) == few[0].records

    assert write_ndjson(few, tmp_path / "cohort.ndjson") == 5
    lines = (tmp_path / "cohort.ndjson").read_bytes().splitlines()
    assert [json.loads(line)["entry"][0]["resource"]["id"] for line in lines] == [
        p.records.patient_id for p in few
    ]
