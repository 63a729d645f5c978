"""Read by id and search (by patient, by code, across patients) of what was imported, and
`$everything`: every resource an export holds can be read back by its id alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.interop.fhir_assessment import ASSESSMENT_TYPES
from tests import fhir_builders as fb
from tests.web.fhir_client import (
    FHIR_JSON,
    SCENARIOS_TODAY,
    Clock,
    emptied,
    everything,
    import_ok,
    issue,
    post_bundle,
    resources,
    shared_app,
)
from tests.web.test_fhir_import import CASES

LOINC_CL = "http://loinc.org|11961-0"


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[TestClient]:
    # The scenarios imported here are dated up to 2026-08-15.
    with shared_app(engine, Clock(SCENARIOS_TODAY)) as client:
        yield client


@pytest.fixture
def client(shared: TestClient, engine: Engine) -> Iterator[TestClient]:
    with emptied(engine, shared) as client:
        yield client


def _search(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/fhir/{path}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    bundle: dict[str, Any] = response.json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    assert bundle.get("entry") != []  # FHIR JSON has no empty arrays
    for entry in bundle.get("entry", []):
        assert entry["search"]["mode"] == "match"
        resource = entry["resource"]
        assert entry["fullUrl"].endswith(f"/fhir/{resource['resourceType']}/{resource['id']}")
    return bundle


def records_of(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """Her Patient and records in an export, without her assessment's resources."""
    return [r for r in resources(bundle) if r["resourceType"] not in ASSESSMENT_TYPES]


def _ids(bundle: dict[str, Any]) -> list[str]:
    return [r["id"] for r in resources(bundle)]


@pytest.fixture
def stored(client: TestClient) -> list[str]:
    """Three women: vignettes with cerclage, medication, symptoms and examinations."""
    wanted = ("V13", "V17", "V25")
    return [
        import_ok(client, (case / "bundle.json").read_bytes())
        for case in CASES
        if case.name.startswith(wanted)
    ]


def test_every_exported_resource_reads_back_by_id(client: TestClient, stored: list[str]) -> None:
    kinds = set()
    for patient_id in stored:
        exported = everything(client, patient_id)
        for resource in resources(exported):
            kinds.add(resource["resourceType"])
            read = client.get(f"/fhir/{resource['resourceType']}/{resource['id']}")
            assert read.status_code == 200, read.text
            assert read.headers["content-type"].startswith(FHIR_JSON)
            assert read.json() == resource
    assert kinds == {
        "Patient",
        "Observation",
        "Condition",
        "Procedure",
        "MedicationRequest",
        "QuestionnaireResponse",
        # Her stored assessment (tests/web/test_fhir_assessment.py).
        "GuidanceResponse",
        "RequestGroup",
        "RiskAssessment",
        # On the clock's day (SCENARIOS_TODAY) V13's findings of 2026-04-29 are known: urgent.
        "Flag",
    }


def test_search_by_patient_and_code(client: TestClient, stored: list[str]) -> None:
    first, second, _third = stored
    hers = _search(client, "Observation", patient=f"Patient/{second}", code=LOINC_CL)
    assert hers["total"] == len(hers["entry"]) >= 1
    for resource in resources(hers):
        assert resource["subject"] == {"reference": f"Patient/{second}"}
        assert resource["code"]["coding"][0]["code"] == "11961-0"
    everything_of_hers = resources(everything(client, second), "Observation")
    assert _ids(hers) == [
        r["id"] for r in everything_of_hers if r["code"]["coding"][0]["code"] == "11961-0"
    ]
    # A bare code, a code list (OR), subject= and the id her source gave her work too.
    assert _ids(_search(client, "Observation", subject=second, code="11961-0")) == _ids(hers)
    both = _search(
        client, "Observation", patient=second, code=f"{LOINC_CL},http://loinc.org|11778-8"
    )
    assert both["total"] == hers["total"] + 1
    assert _ids(_search(client, "Observation", patient="v17", code=LOINC_CL)) == _ids(hers)
    # All of one type for her.
    conditions = _search(client, "Condition", patient=first)
    assert conditions["total"] == len(resources(everything(client, first), "Condition"))


def test_search_by_code_across_patients(client: TestClient, stored: list[str]) -> None:
    found = _search(client, "Observation", code=LOINC_CL)
    owners = {r["subject"]["reference"] for r in resources(found)}
    with_lengths = {
        f"Patient/{p}"
        for p in stored
        if any(
            r["code"]["coding"][0]["code"] == "11961-0"
            for r in resources(everything(client, p), "Observation")
        )
    }
    assert owners == with_lengths
    assert found["total"] >= 2
    procedures = _search(client, "Procedure")
    assert procedures["total"] == sum(
        len(resources(everything(client, p), "Procedure")) for p in stored
    )


def test_search_by_id_and_of_other_kinds(client: TestClient, stored: list[str]) -> None:
    exported = everything(client, stored[2])
    [medication] = resources(exported, "MedicationRequest")
    found = _search(client, "MedicationRequest", _id=medication["id"])
    assert resources(found) == [medication]
    progesterone = _search(
        client,
        "MedicationRequest",
        patient=stored[2],
        code=medication["medicationCodeableConcept"]["coding"][0]["code"],
    )
    assert progesterone["total"] == 1
    symptoms = _search(
        client,
        "QuestionnaireResponse",
        questionnaire="https://cervixwatch.org/fhir/Questionnaire/symptoms",
    )
    assert symptoms["total"] == sum(
        len(resources(everything(client, p), "QuestionnaireResponse")) for p in stored
    )
    assert (
        _search(client, "Observation", patient=stored[0], code="http://loinc.org|0000-0")["total"]
        == 0
    )
    assert _search(client, "Observation", patient="Patient/nobody")["total"] == 0


def test_patient_search_and_paging(client: TestClient, stored: list[str]) -> None:
    everyone = _search(client, "Patient")
    assert everyone["total"] == 3
    assert sorted(_ids(everyone)) == sorted(stored)
    [v17] = resources(_search(client, "Patient", _id=stored[1]))
    assert _search(client, "Patient", _id=stored[0])["total"] == 1
    family = v17["name"][0]["family"]
    assert stored[1] in _ids(_search(client, "Patient", family=family[:3].lower()))
    page = _search(client, "Patient", _count=2)
    assert page["total"] == 3
    assert len(page["entry"]) == 2
    [following] = [link["url"] for link in page["link"] if link["relation"] == "next"]
    rest = client.get(following).json()
    assert len(rest["entry"]) == 1
    assert sorted(_ids(page) + _ids(rest)) == sorted(stored)


def test_everything_of_unknown_patient_is_404(client: TestClient) -> None:
    for unknown in ("00000000-0000-0000-0000-000000000000", "nobody", "x" * 300):
        found = issue(client.get(f"/fhir/Patient/{unknown}/$everything"), 404)
        assert found["code"] == "not-found"


def test_reading_what_is_not_there_is_404(client: TestClient, stored: list[str]) -> None:
    for path in (
        "Patient/nobody",
        "Observation/cl-999999",
        "Observation/cl-99999999999999999999",
        "Observation/edd-nobody",
        "Observation/anything",
        "Condition/complication-0",
        f"Procedure/{stored[0]}",
    ):
        assert issue(client.get(f"/fhir/{path}"), 404)["code"] == "not-found", path
    # A record's id read as another type names nothing.
    [length, *_] = [
        r for r in resources(everything(client, stored[1])) if r["id"].startswith("cl-")
    ]
    issue(client.get(f"/fhir/Procedure/{length['id']}"), 404)


def test_bad_search_parameters_are_refused(client: TestClient) -> None:
    assert "'colour'" in issue(client.get("/fhir/Observation?colour=red"), 400)["diagnostics"]
    issue(client.get("/fhir/Observation?_count=lots"), 400)
    issue(client.get("/fhir/Observation?_count=100000"), 400)
    issue(client.get("/fhir/Patient?birthdate=gt2000"), 400)
    issue(client.get("/fhir/Encounter?patient=x"), 404)
    issue(client.get("/fhir/Patient/x/$everything?_type=Encounter"), 404)


def test_everything_by_type(client: TestClient) -> None:
    patient_id = import_ok(client, fb.v01_bundle())
    response = client.get(f"/fhir/Patient/{patient_id}/$everything", params={"_type": "Patient"})
    assert [r["resourceType"] for r in resources(response.json())] == ["Patient"]


def test_a_woman_registered_without_a_pregnancy_exports_her_patient(client: TestClient) -> None:
    registered = client.post(
        "/api/patients", json={"hospital_number": "H-77", "family_name": "Adeyemi"}
    )
    assert registered.status_code == 201, registered.text
    patient_id = registered.json()["id"]
    exported = everything(client, patient_id)
    [patient] = resources(exported)
    assert patient["identifier"][0]["value"] == "H-77"
    assert patient["name"] == [{"family": "Adeyemi"}]
    # A Bundle with her hospital number (of the installation's system) adds her records.
    assert patient["identifier"][0]["system"] == "urn:cervixwatch:hospital-number"
    bundle = fb.v01_bundle()
    bundle["entry"][0]["resource"]["identifier"] = [
        {"system": "urn:cervixwatch:hospital-number", "value": "H-77"}
    ]
    assert import_ok(client, bundle) == patient_id
    assert len(records_of(everything(client, patient_id))) == len(bundle["entry"])


def test_the_locations_an_import_answers_read_back(client: TestClient) -> None:
    cases = [c for c in CASES if c.name.startswith(("V13", "V17", "V22", "V25"))]
    for case in cases:
        sent = orjson.loads((case / "bundle.json").read_bytes())
        answer = post_bundle(client, sent)
        assert answer.status_code == 200, answer.text
        located = 0
        for entry, result in zip(sent["entry"], answer.json()["entry"], strict=True):
            location = result["response"].get("location")
            if location is None:
                continue
            located += 1
            read = client.get(f"/fhir/{location}")
            assert read.status_code == 200, (case.name, location)
            resource = read.json()
            assert resource["resourceType"] == entry["resource"]["resourceType"]
            if "code" in entry["resource"] and "code" in resource:
                codes = {(x["system"], x["code"]) for x in entry["resource"]["code"]["coding"]}
                assert codes & {(x["system"], x["code"]) for x in resource["code"]["coding"]}
        patient_id = answer.json()["entry"][0]["response"]["location"].removeprefix("Patient/")
        assert located == len(records_of(everything(client, patient_id))), case.name
