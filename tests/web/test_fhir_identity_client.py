"""Patient identity as an independent FHIR client sees it: fhirpy (PyPI), over real HTTP to the
app served by Uvicorn, posts two hospitals' transactions whose Patients share a hospital-number
value, finds two women by token search, and asks `Patient/$match`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fhirpy import SyncFHIRClient
from sqlalchemy import Engine

from cervixwatch.app import accounts
from cervixwatch.knowledge import codes as c
from cervixwatch.store.database import session_factory
from cervixwatch.store.models import Role
from tests.store.tables import delete_everything
from tests.web import live_server
from tests.web.accounts import TEAM

HOSPITAL_A = "urn:oid:1.2.826.0.1.1"
HOSPITAL_B = "urn:oid:1.2.826.0.1.2"


@pytest.fixture
def fhir(engine: Engine) -> Iterator[SyncFHIRClient]:
    """fhirpy's client of the app served on a free port, acting for a clinician of `TEAM`."""
    delete_everything(engine)
    sessions = session_factory(engine)
    username = f"fhirpy-{time.monotonic_ns()}"
    accounts.add_user(sessions, username, Role.CLINICIAN, password=None, teams=(TEAM,))
    token = accounts.issue_token(sessions, username, "fhirpy", days=1).secret
    try:
        with live_server.served(engine) as base:
            yield SyncFHIRClient(f"{base}/fhir", authorization=f"Bearer {token}")
    finally:
        delete_everything(engine)


def _transaction(system: str, family: str, birth: str) -> dict[str, Any]:
    patient = "urn:uuid:6a0c1f2e-0000-4000-8000-000000000001"
    length = {
        "resourceType": "Observation",
        "status": "final",
        "subject": {"reference": patient},
        "code": {"coding": [{"system": c.LOINC, "code": "11961-0"}]},
        "effectiveDateTime": "2026-02-02",
        "valueQuantity": {"value": 24, "unit": "mm", "system": c.UCUM, "code": "mm"},
        "method": {"coding": [{"system": c.SNOMED, "code": "54300008"}]},
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": patient,
                "request": {"method": "POST", "url": "Patient"},
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": system, "value": "MRN777"}],
                    "name": [{"family": family, "given": ["Test"]}],
                    "gender": "female",
                    "birthDate": birth,
                },
            },
            {
                "fullUrl": "urn:uuid:7b1d2f3e-0000-4000-8000-000000000002",
                "request": {"method": "POST", "url": "Observation"},
                "resource": length,
            },
        ],
    }


def test_an_independent_client_finds_two_women_and_matches_one(fhir: SyncFHIRClient) -> None:
    for system, family, birth in (
        (HOSPITAL_A, "Alpha", "1990-01-01"),
        (HOSPITAL_B, "Bravo", "1985-05-05"),
    ):
        answer = fhir.execute("", method="post", data=_transaction(system, family, birth))
        assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created"] * 2
    found = fhir.resources("Patient").search(identifier="MRN777").fetch_all()
    assert sorted(p["name"][0]["family"] for p in found) == ["Alpha", "Bravo"]
    [alpha] = fhir.resources("Patient").search(identifier=f"{HOSPITAL_A}|MRN777").fetch_all()
    assert alpha["birthDate"] == "1990-01-01"
    assert alpha["identifier"][0]["system"] == HOSPITAL_A
    parameters = {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "resource",
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": HOSPITAL_A, "value": "MRN777"}],
                },
            },
            {"name": "onlyCertainMatches", "valueBoolean": True},
        ],
    }
    matched = fhir.execute("Patient/$match", method="post", data=parameters)
    assert matched["resourceType"] == "Bundle"
    [entry] = matched["entry"]
    assert entry["resource"]["id"] == alpha["id"]
    assert entry["search"]["score"] == 1.0
