"""FHIR writes as independent clients make them, over real HTTP to the app served by Uvicorn:
fhirpy (PyPI) creates, conditionally creates (its get_or_create), updates by id and by
condition, deletes and reads the history; fhirclient (SMART on FHIR's Python client) creates
and updates its model objects. Every answer is validated with the R4 JSON schema."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fhirclient import client as smart_client
from fhirclient.models.observation import Observation as SmartObservation
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound
from sqlalchemy import Engine

from cervixwatch.app import accounts
from cervixwatch.knowledge import codes as c
from cervixwatch.store.database import session_factory
from cervixwatch.store.models import Role
from tests.r4_schema import assert_r4
from tests.store.tables import delete_everything, row_counts
from tests.web import live_server
from tests.web.accounts import TEAM

HOSPITAL = "urn:oid:1.2.826.0.1.1"


@pytest.fixture
def served(engine: Engine) -> Iterator[tuple[str, str]]:
    """(base URL of the FHIR facade on a free port, a clinician's bearer token)."""
    delete_everything(engine)
    sessions = session_factory(engine)
    username = f"writer-{time.monotonic_ns()}"
    accounts.add_user(sessions, username, Role.CLINICIAN, password=None, teams=(TEAM,))
    token = accounts.issue_token(sessions, username, "fhir client", days=1).secret
    try:
        with live_server.served(engine) as base:
            yield f"{base}/fhir", token
    finally:
        delete_everything(engine)


def _patient(value: str = "H-1", family: str = "Writer") -> dict[str, Any]:
    return {
        "identifier": [{"system": HOSPITAL, "value": value}],
        "name": [{"family": family, "given": ["Test"]}],
        "gender": "female",
        "birthDate": "1991-03-04",
    }


def _length(patient_id: str, mm: float) -> dict[str, Any]:
    return {
        "status": "final",
        "subject": {"reference": f"Patient/{patient_id}"},
        "code": {"coding": [{"system": c.LOINC, "code": "11961-0"}]},
        "effectiveDateTime": "2026-02-02",
        "valueQuantity": {"value": mm, "unit": "mm", "system": c.UCUM, "code": "mm"},
        "method": {"coding": [{"system": c.SNOMED, "code": "54300008"}]},
    }


def test_fhirpy_creates_updates_deletes_and_reads_the_history(
    served: tuple[str, str], engine: Engine
) -> None:
    base, token = served
    fhir = SyncFHIRClient(base, authorization=f"Bearer {token}")
    woman = fhir.resource("Patient", **_patient())
    woman.save()
    assert woman.id
    assert_r4(woman.serialize())  # type: ignore[no-untyped-call]
    # get_or_create: the condition finds her; nothing is created.
    again, created = (
        fhir.resources("Patient")
        .search(identifier=f"{HOSPITAL}|H-1")
        .get_or_create(fhir.resource("Patient", **_patient()))
    )
    assert not created
    assert again.id == woman.id
    # A record of hers, created, then updated by id.
    length = fhir.resource("Observation", **_length(woman.id, 24))
    length.save()
    assert length["valueQuantity"]["value"] == 24
    first_version = length["meta"]["versionId"]
    length["valueQuantity"]["value"] = 20
    length.save()
    assert length["valueQuantity"]["value"] == 20
    assert length["meta"]["versionId"] != first_version
    assert_r4(length.serialize())  # type: ignore[no-untyped-call]
    # Its history: both versions, the older with the old value.
    history = fhir.execute(f"Observation/{length.id}/_history", method="get")
    assert_r4(history)
    values = [e["resource"]["valueQuantity"]["value"] for e in history["entry"]]
    assert values == [20, 24]
    # A conditional update renames her.
    renamed, created = (
        fhir.resources("Patient")
        .search(identifier=f"{HOSPITAL}|H-1")
        .update(fhir.resource("Patient", **_patient(family="Renamed")))
    )
    assert not created
    assert renamed["name"][0]["family"] == "Renamed"
    # Deleted: a read answers 410 Gone.
    sessions = session_factory(engine)
    before = row_counts(sessions)["cervical_lengths"]
    length.delete()  # type: ignore[no-untyped-call]
    assert row_counts(sessions)["cervical_lengths"] == before - 1
    with pytest.raises((ResourceNotFound, OperationOutcome)):
        fhir.reference("Observation", length.id).to_resource()


def test_fhirclient_creates_and_updates_its_models(served: tuple[str, str]) -> None:
    base, token = served
    fhir = SyncFHIRClient(base, authorization=f"Bearer {token}")
    woman = fhir.resource("Patient", **_patient("H-2"))
    woman.save()
    smart = smart_client.FHIRClient(settings={"app_id": "cervixwatch-tests", "api_base": base})
    smart.server.session.headers["Authorization"] = f"Bearer {token}"
    observation = SmartObservation({"resourceType": "Observation", **_length(woman.id, 26)})
    answer = observation.create(smart.server)
    assert answer is not None
    assert_r4(answer)
    read = SmartObservation.read(answer["id"], smart.server)
    assert read.valueQuantity.value == 26
    read.valueQuantity.value = 22
    read.update(smart.server)
    assert SmartObservation.read(answer["id"], smart.server).valueQuantity.value == 22
