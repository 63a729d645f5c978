"""GET /fhir/metadata: a valid R4 CapabilityStatement naming what the server does; JSON only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from sqlalchemy import Engine

from cervixwatch.app.version_meta import VERSIONED_TYPES
from cervixwatch.web.fhir.metadata import WRITABLE
from tests.r4_schema import assert_r4
from tests.web.fhir_client import FHIR_JSON, emptied, issue, shared_app


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[TestClient]:
    with shared_app(engine) as client:
        yield client


@pytest.fixture
def client(shared: TestClient, engine: Engine) -> Iterator[TestClient]:
    """One app per module and database backend, its database emptied around each test."""
    with emptied(engine, shared) as client:
        yield client


def test_metadata_is_a_valid_capability_statement(client: TestClient) -> None:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(FHIR_JSON)
    document = response.json()
    statement = CapabilityStatement.model_validate(document)  # raises if it is not valid R4
    assert_r4(document)
    assert statement.fhirVersion == "4.0.1"
    assert "json" in document["format"]
    [rest] = document["rest"]
    assert rest["mode"] == "server"
    assert [i["code"] for i in rest["interaction"]] == ["transaction", "batch"]
    served = {r["type"]: r for r in rest["resource"]}
    assert set(served) == {
        "Patient",
        "Observation",
        "Condition",
        "Procedure",
        "MedicationRequest",
        "MedicationStatement",
        "QuestionnaireResponse",
        "Task",
        "GuidanceResponse",
        "RequestGroup",
        "RiskAssessment",
        "Flag",
        "CodeSystem",
        "Questionnaire",
        "AuditEvent",
    }
    audit = served.pop("AuditEvent")
    assert {p["name"] for p in audit["searchParam"]} == {"patient", "agent", "date"}
    for kind, resource in served.items():
        versions = {"vread", "history-instance"} if kind in VERSIONED_TYPES else set()
        writes = set()
        if kind in WRITABLE:
            writes = {"create", "update"} | ({"delete"} if kind != "Patient" else set())
        assert {i["code"] for i in resource["interaction"]} == {
            "read",
            "search-type",
            *versions,
            *writes,
        }, kind
        params = {p["name"] for p in resource["searchParam"]}
        assert "_id" in params
        if kind in {"CodeSystem", "Questionnaire"}:  # definitions: found by their url
            assert params == {"_id", "url"}
        elif kind != "Patient":
            assert {"patient", "subject"} <= params
    assert "code" in {p["name"] for p in served["Observation"]["searchParam"]}
    assert "code" in {p["name"] for p in served["Task"]["searchParam"]}
    assert "105480006" in served["MedicationStatement"]["documentation"]
    assert [o["name"] for o in served["Patient"]["operation"]] == ["everything", "match"]


def test_json_is_served_however_it_is_asked_for(client: TestClient) -> None:
    for ask in ({"_format": "json"}, {"_format": "application/fhir+json"}):
        response = client.get("/fhir/metadata", params=ask)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(FHIR_JSON)
    plain = client.get("/fhir/metadata", headers={"Accept": "application/json"})
    assert plain.headers["content-type"].startswith("application/json")
    browser = client.get("/fhir/metadata", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.status_code == 200
    pretty = client.get("/fhir/metadata", params={"_pretty": "true"})
    assert pretty.text.startswith("{\n")


def test_xml_is_refused(client: TestClient) -> None:
    assert (
        "JSON" in issue(client.get("/fhir/metadata", params={"_format": "xml"}), 406)["diagnostics"]
    )
    issue(client.get("/fhir/metadata", headers={"Accept": "application/fhir+xml"}), 406)


def test_unknown_paths_and_methods_answer_operation_outcomes(client: TestClient) -> None:
    assert issue(client.get("/fhir/no/such/thing"), 404)["code"] == "not-found"
    assert issue(client.get("/fhir/Encounter/1"), 404)["code"] == "not-supported"
    refused = client.delete("/fhir/metadata")
    issue(refused, 405)
    assert refused.headers["allow"] == "GET"
    # Writes of one resource are supported; a body that is no resource is refused as such.
    assert "resourceType" in issue(client.post("/fhir/Observation", json={}), 400)["diagnostics"]
    # Her assessment is CervixWatch's own: read, never written.
    refused = client.post("/fhir/GuidanceResponse", json={"resourceType": "GuidanceResponse"})
    assert issue(refused, 405)["code"] == "not-supported"
    assert refused.headers["allow"] == "GET"
    # PATCH is no interaction here.
    issue(client.patch("/fhir/Observation/cl-1", json={}), 405)
