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
from tests.web.fhir_client import FHIR_JSON, HEADERS, emptied, issue, shared_app
from tests.web.test_access_matrix import app_endpoints


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
        "Group",
    }
    audit = served.pop("AuditEvent")
    group = served.pop("Group")  # only exported (Bulk Data), below
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
    assert [o["name"] for o in served["Patient"]["operation"]] == ["everything", "match", "export"]
    # Bulk Data $export at the three levels, each with the IG's OperationDefinition.
    bulk = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"
    assert served["Patient"]["operation"][-1]["definition"] == f"{bulk}patient-export"
    [group_export] = group["operation"]
    assert (group_export["name"], group_export["definition"]) == ("export", f"{bulk}group-export")
    assert "interaction" not in group  # a Group is not read or searched
    system_ops = {o["name"]: o["definition"] for o in rest["operation"]}
    assert system_ops["export"] == f"{bulk}export"


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


#: The interaction (or operation) each FHIR route serves: the CapabilityStatement must claim
#: exactly the interactions the routes serve.
_ROUTE_INTERACTIONS = {
    ("GET", "/fhir/metadata"): "capabilities",
    # SMART discovery (issue 14): what the server supports, as the metadata is.
    ("GET", "/fhir/.well-known/smart-configuration"): "capabilities",
    ("POST", "/fhir"): "transaction",
    ("GET", "/fhir/{resource_type}"): "search-type",
    ("POST", "/fhir/{resource_type}/_search"): "search-type",
    ("GET", "/fhir/{resource_type}/{resource_id}"): "read",
    ("POST", "/fhir/{resource_type}"): "create",
    ("PUT", "/fhir/{resource_type}/{resource_id}"): "update",
    ("PUT", "/fhir/{resource_type}"): "update",
    ("DELETE", "/fhir/{resource_type}/{resource_id}"): "delete",
    ("GET", "/fhir/{resource_type}/{resource_id}/_history"): "history-instance",
    ("GET", "/fhir/{resource_type}/{resource_id}/_history/{version_id}"): "vread",
    ("GET", "/fhir/Patient/{patient_id}/$everything"): "$everything",
    ("POST", "/fhir/Patient/{patient_id}/$everything"): "$everything",
    ("POST", "/fhir/Patient/$match"): "$match",
    ("GET", "/fhir/CodeSystem"): "search-type",
    ("GET", "/fhir/CodeSystem/{resource_id}"): "read",
    ("GET", "/fhir/Questionnaire"): "search-type",
    ("GET", "/fhir/Questionnaire/{resource_id}"): "read",
    ("GET", "/fhir/AuditEvent"): "search-type",
    ("GET", "/fhir/AuditEvent/{event_id}"): "read",
    # Bulk Data $export: the kick-offs, and the status and file URLs they hand out.
    ("GET", "/fhir/$export"): "$export",
    ("POST", "/fhir/$export"): "$export",
    ("GET", "/fhir/Patient/$export"): "$export",
    ("POST", "/fhir/Patient/$export"): "$export",
    ("GET", "/fhir/Group/{team_id}/$export"): "$export",
    ("POST", "/fhir/Group/{team_id}/$export"): "$export",
    ("GET", "/fhir/$export-status/{job_id}"): "$export",
    ("DELETE", "/fhir/$export-status/{job_id}"): "$export",
    ("GET", "/fhir/$export-files/{job_id}/{resource_type}.ndjson"): "$export",
}


def test_the_capability_statement_claims_what_the_routes_serve(client: TestClient) -> None:
    served = {
        (e.method, e.path)
        for e in app_endpoints(client.app)  # type: ignore[arg-type]
        if e.path.startswith("/fhir") and not e.hidden
    }
    unmapped = served - set(_ROUTE_INTERACTIONS)
    assert not unmapped, f"FHIR routes the CapabilityStatement test does not know: {unmapped}"
    routed = {_ROUTE_INTERACTIONS[route] for route in served}
    [rest] = client.get("/fhir/metadata", headers=HEADERS).json()["rest"]
    claimed = {"capabilities"} | {i["code"] for i in rest["interaction"]}
    for resource in rest["resource"]:
        claimed |= {i["code"] for i in resource.get("interaction", ())}
        claimed |= {f"${op['name']}" for op in resource.get("operation", ())}
    assert claimed - {"batch"} == routed
