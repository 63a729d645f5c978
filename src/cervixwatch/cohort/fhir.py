"""The cohort as FHIR R4: one Bundle per woman (coded as shared/clinical/fhir-mapping.md
says, by the same writer CervixWatch exports with), as files or as NDJSON."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from cervixwatch.cohort import people
from cervixwatch.cohort.model import CohortPatient
from cervixwatch.interop.fhir_write import bundle_from_records

#: A fixed namespace, so a woman's Bundle id is the same every time she is generated.
_BUNDLE_NAMESPACE = uuid.UUID("0b8a3c52-6f1e-4d6b-9a57-3c1f2e9d7a10")


def patient_resource(patient: CohortPatient) -> dict[str, Any]:
    """Her Patient resource: fake name and hospital number, marked as test data."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient.records.patient_id,
        "meta": {"security": [dict(people.TEST_DATA_TAG)]},
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                    ]
                },
                "system": people.HOSPITAL_NUMBER_SYSTEM,
                "value": patient.hospital_number,
            }
        ],
        "name": [{"family": patient.family_name, "given": [patient.given_name]}],
        "gender": "female",
        # Her unit, by name only (a logical reference: no Organization resource is written).
        "managingOrganization": {"display": people.unit_of(patient.index)},
    }
    if patient.records.birth_date is not None:
        resource["birthDate"] = patient.records.birth_date.isoformat()
    return resource


def cohort_bundle(patient: CohortPatient, bundle_type: str = "collection") -> dict[str, Any]:
    """Her Bundle. With `bundle_type="transaction"` every entry is a POST (create): she is
    found again by her hospital number and each record by the id it carries, so posting it
    twice stores nothing twice. (Not PUT: ids on the server are the server's.)"""
    bundle = bundle_from_records(patient.records, patient_resource(patient), bundle_type)
    bundle_id = uuid.uuid5(_BUNDLE_NAMESPACE, patient.records.patient_id)
    # Deterministic: the same cohort gives byte-identical bundles.
    stamped = {
        "resourceType": "Bundle",
        "id": str(bundle_id),
        "meta": {"security": [dict(people.TEST_DATA_TAG)]},
        "type": bundle_type,
        "timestamp": f"{patient.as_of.isoformat()}T08:00:00Z",
        "entry": bundle["entry"],
    }
    if bundle_type in ("transaction", "batch"):
        for entry in stamped["entry"]:
            entry["request"] = {"method": "POST", "url": entry["resource"]["resourceType"]}
    return stamped


def bundle_bytes(patient: CohortPatient, bundle_type: str = "collection") -> bytes:
    """Her Bundle as compact JSON."""
    return orjson.dumps(cohort_bundle(patient, bundle_type))


def write_bundle_files(patients: Iterable[CohortPatient], directory: Path) -> int:
    """One `<patient id>.json` per woman in `directory` (made if need be); returns how many."""
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for patient in patients:
        path = directory / f"{patient.records.patient_id}.json"
        path.write_bytes(orjson.dumps(cohort_bundle(patient), option=orjson.OPT_INDENT_2))
        count += 1
    return count


def write_ndjson(patients: Iterable[CohortPatient], path: Path) -> int:
    """One Bundle per line in `path`; returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("wb") as out:
        for patient in patients:
            out.write(bundle_bytes(patient) + b"\n")
            count += 1
    return count
