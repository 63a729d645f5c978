"""The FHIR facade as SMART on FHIR's Python client sees it: fhirclient (PyPI), with its own R4
models, over real HTTP to the app served by Uvicorn. It reads the CapabilityStatement, finds a
woman by her hospital number, reads her, searches her records and follows her assessment from
the GuidanceResponse to its RequestGroup; every answer parses into fhirclient's models (which
check types and required elements as they parse)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from fhirclient.auth import FHIROAuth2Auth
from fhirclient.models.capabilitystatement import CapabilityStatement
from fhirclient.models.guidanceresponse import GuidanceResponse
from fhirclient.models.observation import Observation
from fhirclient.models.patient import Patient
from fhirclient.models.requestgroup import RequestGroup
from fhirclient.server import FHIRServer
from sqlalchemy import Engine

from cervixwatch.app import accounts
from cervixwatch.store.database import session_factory
from cervixwatch.store.models import Role
from cervixwatch.web.app import create_app
from tests import fhir_builders as fb
from tests.store.tables import delete_everything
from tests.web import live_server
from tests.web.accounts import TEAM, sign_in_as_clinician, test_settings
from tests.web.conftest import TODAY
from tests.web.fhir_client import import_ok

HOSPITAL = "urn:oid:1.2.826.0.1.1"


@pytest.fixture
def server(engine: Engine) -> Iterator[tuple[FHIRServer, str]]:
    """fhirclient's server object for the app, signing with a clinician's token, and the id of
    a woman imported beforehand (a previous preterm birth and a 24 mm cervix)."""
    delete_everything(engine)
    sessions = session_factory(engine)
    username = f"fhirclient-{time.monotonic_ns()}"
    accounts.add_user(sessions, username, Role.CLINICIAN, password=None, teams=(TEAM,))
    token = accounts.issue_token(sessions, username, "fhirclient", days=1).secret
    patient = fb.patient()
    patient["identifier"] = [{"system": HOSPITAL, "value": "FC-0001"}]
    bundle = fb.bundle(
        patient,
        fb.edd("2026-07-04"),
        fb.prior_pregnancy(),
        fb.cervical_length(24, effective="2026-02-02"),
        with_patient=False,
    )
    app = create_app(test_settings(engine), today=lambda: TODAY)
    with TestClient(app) as setup:
        sign_in_as_clinician(setup)
        woman = import_ok(setup, bundle)
    try:
        with live_server.served(engine) as base:
            fhir = FHIRServer(None, base_uri=f"{base}/fhir/")
            fhir.auth = FHIROAuth2Auth()
            fhir.auth.access_token = token
            yield fhir, woman
    finally:
        delete_everything(engine)


def test_fhirclient_reads_the_capability_statement(server: tuple[FHIRServer, str]) -> None:
    fhir, _ = server
    statement = CapabilityStatement(fhir.request_json("metadata"))
    assert statement.fhirVersion.startswith("4.0")
    types = {r.type for r in statement.rest[0].resource}
    assert {"Patient", "Observation", "GuidanceResponse", "RequestGroup"} <= types


def test_fhirclient_finds_reads_and_searches_a_woman(server: tuple[FHIRServer, str]) -> None:
    fhir, woman = server
    found = list(
        Patient.where(struct={"identifier": f"{HOSPITAL}|FC-0001"}).perform_resources_iter(fhir)
    )
    assert [p.id for p in found] == [woman]
    patient = Patient.read(woman, fhir)
    assert any(i.system == HOSPITAL and i.value == "FC-0001" for i in patient.identifier)
    lengths = list(
        Observation.where(
            struct={"patient": f"Patient/{woman}", "code": "http://loinc.org|11961-0"}
        ).perform_resources_iter(fhir)
    )
    assert [o.valueQuantity.value for o in lengths] == [24]


def test_fhirclient_follows_her_assessment(server: tuple[FHIRServer, str]) -> None:
    fhir, woman = server
    search = GuidanceResponse.where(struct={"patient": f"Patient/{woman}"})
    responses = list(search.perform_resources_iter(fhir))
    assert len(responses) == 1
    response = responses[0]
    assert response.subject.reference == f"Patient/{woman}"
    group_id = response.result.reference.removeprefix("RequestGroup/")
    group = RequestGroup.read(group_id, fhir)
    codes = {coding.code for action in group.action for coding in action.code[0].coding}
    assert codes  # the recommendations, each coded
