"""The assessment as FHIR (issue 11, part 6): each woman's stored assessment is a
GuidanceResponse, its recommendations a RequestGroup with orders a client can act on, the risk
a RiskAssessment and an urgent finding a Flag; read, searched and in `$everything`. The
CodeSystem and the symptom Questionnaire are served so that codes and answers resolve. Every
resource is checked against the FHIR R4B models, and fhirpy (an independent client) follows a
GuidanceResponse to its RequestGroup over real HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from fhirpy import SyncFHIRClient
from sqlalchemy import Engine

from cervixwatch.clinical.assessment import assess
from cervixwatch.clinical.guidelines import RECOMMENDATION_CODES
from cervixwatch.clinical.records import Symptom
from cervixwatch.interop.fhir_bundle import records_from_bundle
from cervixwatch.knowledge import bundled_evidence, bundled_profiles
from cervixwatch.knowledge import codes as c
from cervixwatch.store.models import Role
from cervixwatch.web.app import create_app
from tests import fhir_builders as fb
from tests.r4_schema import assert_r4
from tests.web import live_server
from tests.web.accounts import TEAM, make_user, test_settings
from tests.web.conftest import TODAY
from tests.web.fhir_client import FHIR_JSON, emptied, everything, import_ok, resources, shared_app

ASSESSMENT_TYPES = ("GuidanceResponse", "RequestGroup", "RiskAssessment", "Flag")
#: Today is 22+2 with this due date.
EDD = "2026-07-04"
REPORTED = "2026-03-01T09:00:00+00:00"


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[TestClient]:
    with shared_app(engine) as client:
        yield client


@pytest.fixture
def client(shared: TestClient, engine: Engine) -> Iterator[TestClient]:
    with emptied(engine, shared) as client:
        yield client


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """`resource`, checked against its FHIR R4B model and the official R4 JSON schema."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return assert_r4(resource)


def get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/fhir/{path}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    return valid(response.json())


def search(client: TestClient, kind: str, **params: Any) -> list[dict[str, Any]]:
    bundle = get(client, kind, **params)
    assert bundle["type"] == "searchset"
    # No match: no `entry` at all (FHIR JSON has no empty arrays).
    assert bundle["total"] == len(bundle.get("entry", ()))
    return [valid(r) for r in resources(bundle)]


def only(client: TestClient, kind: str, patient_id: str) -> dict[str, Any]:
    found = search(client, kind, patient=f"Patient/{patient_id}")
    assert len(found) == 1, found
    return found[0]


def short_cervix(*extra: dict[str, Any]) -> dict[str, Any]:
    """No history, 18 mm at 21+3: vaginal progesterone by both guidelines."""
    return fb.bundle(fb.edd(EDD), fb.cervical_length(18, "2026-02-25"), *extra)


def prior_sptb() -> dict[str, Any]:
    """A previous spontaneous birth at 30+0, 17+1 today, no length yet: serial scans are due."""
    return fb.bundle(fb.edd("2026-08-09"), fb.prior_pregnancy("live-birth", 30.0))


def actions(group: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [a for a in group.get("action", []) if a["code"][0]["coding"][0]["code"] == code]


def extension(action: dict[str, Any], url: str) -> list[Any]:
    return [
        next(v for k, v in e.items() if k.startswith("value"))
        for e in action.get("extension", [])
        if e["url"] == url
    ]


def contained(group: dict[str, Any], action: dict[str, Any]) -> dict[str, Any] | None:
    reference = action.get("resource", {}).get("reference")
    if reference is None:
        return None
    assert reference.startswith("#")
    found: dict[str, Any] = next(r for r in group["contained"] if r["id"] == reference[1:])
    return found


def expected_assessment(bundle: dict[str, Any]) -> Any:
    """What `assess` makes of the bundle today, independently of the server."""
    records = records_from_bundle(bundle, TODAY)
    return assess(records, TODAY, list(bundled_profiles().values()), bundled_evidence())


# --- the assessment -------------------------------------------------------------------------


def test_an_assessment_is_a_guidance_response_with_its_request_group(client: TestClient) -> None:
    patient_id = import_ok(client, short_cervix())
    response = only(client, "GuidanceResponse", patient_id)
    assert response["subject"] == {"reference": f"Patient/{patient_id}"}
    assert response["occurrenceDateTime"] == TODAY.isoformat()
    assert response["moduleUri"].endswith("/acog-2026.12,nice-2026.12")
    assert response["meta"]["lastUpdated"]
    # The singleton count is missing (taken as one): data-required, said in words.
    assert response["status"] == "data-required"
    missing = [e["valueString"] for d in response["dataRequirement"] for e in d["extension"]]
    assert "the number of fetuses (taken as one)" in missing
    group_id = response["result"]["reference"].removeprefix("RequestGroup/")
    group = get(client, f"RequestGroup/{group_id}")
    assert group["intent"] == "proposal"
    assert group["status"] == "active"
    assert group["subject"] == response["subject"]
    # One action per recommendation, each with its rule, citation, state and provenance.
    expected = expected_assessment(short_cervix())
    assert [a["code"][0]["coding"][0]["code"] for a in group["action"]] == [
        r.code for r in expected.recommendations
    ]
    for action, recommendation in zip(group["action"], expected.recommendations, strict=True):
        assert action["code"][0]["coding"][0]["system"] == c.CW
        assert action["title"] == recommendation.summary
        assert action["documentation"][0]["type"] == "citation"
        assert action["documentation"][0]["label"] == recommendation.rule
        assert action["documentation"][0]["citation"] == recommendation.citation
        assert extension(action, c.RECOMMENDATION_STATE_EXTENSION) == [recommendation.state]
        assert extension(action, c.RECOMMENDATION_PROVENANCE_EXTENSION) == [
            recommendation.provenance
        ]
        assert extension(action, c.RECOMMENDATION_GUIDELINE_EXTENSION) == [recommendation.guideline]


def test_a_progesterone_recommendation_proposes_a_medication_request(client: TestClient) -> None:
    patient_id = import_ok(client, short_cervix())
    group = only(client, "RequestGroup", patient_id)
    offered = actions(group, "vaginal-progesterone")
    assert {extension(a, c.RECOMMENDATION_GUIDELINE_EXTENSION)[0] for a in offered} == {
        "acog",
        "nice",
    }
    for action in offered:
        proposal = contained(group, action)
        assert proposal is not None
        assert proposal["resourceType"] == "MedicationRequest"
        assert (proposal["status"], proposal["intent"]) == ("draft", "proposal")
        assert proposal["medicationCodeableConcept"]["coding"][0]["code"] == "vaginal-progesterone"
        assert proposal["dosageInstruction"][0]["route"]["coding"][0]["code"] == "16857009"
        assert proposal["subject"] == {"reference": f"Patient/{patient_id}"}
    # Taken up and sent back as an active order, it is a treatment in place: nothing proposed.
    order = contained(group, offered[0])
    assert order is not None
    order |= {"id": "ordered", "status": "active", "intent": "order", "subject": fb.subject()}
    order["authoredOn"] = TODAY.isoformat()
    assert import_ok(client, fb.bundle(order)) == patient_id
    group = only(client, "RequestGroup", patient_id)
    for action in actions(group, "vaginal-progesterone"):
        assert extension(action, c.RECOMMENDATION_STATE_EXTENSION) == ["in-place"]
        assert "resource" not in action


def test_progesterone_in_place_proposes_nothing(client: TestClient) -> None:
    taking = fb.medication_request(c.VAGINAL_PROGESTERONE, authored="2026-02-26")
    patient_id = import_ok(client, short_cervix(taking))
    group = only(client, "RequestGroup", patient_id)
    offered = actions(group, "vaginal-progesterone")
    assert offered
    for action in offered:
        assert extension(action, c.RECOMMENDATION_STATE_EXTENSION) == ["in-place"]
        assert "resource" not in action
        assert "No order is proposed: it is in place." in action["description"]
    assert not any(r["resourceType"] == "MedicationRequest" for r in group.get("contained", []))


def test_a_scan_recommendation_proposes_a_service_request_for_the_next_scan(
    client: TestClient,
) -> None:
    patient_id = import_ok(client, prior_sptb())
    group = only(client, "RequestGroup", patient_id)
    plans = {
        (p.guideline, p.rule): p.next_scan
        for p in expected_assessment(prior_sptb()).scan_plans
        if p.next_scan is not None
    }
    scans = actions(group, "serial-cervical-length")
    assert scans
    for action in scans:
        guideline = extension(action, c.RECOMMENDATION_GUIDELINE_EXTENSION)[0]
        next_scan = plans[(guideline, action["documentation"][0]["label"])]
        proposal = contained(group, action)
        assert proposal is not None
        assert proposal["resourceType"] == "ServiceRequest"
        assert (proposal["status"], proposal["intent"]) == ("draft", "proposal")
        assert proposal["code"]["coding"][0] == {
            "system": "http://loinc.org",
            "code": "11961-0",
            "display": "Cervix [Length] by US",
        }
        assert proposal["orderDetail"][0]["coding"][0]["code"] == "54300008"
        assert proposal["occurrencePeriod"] == {
            "start": next_scan.due.isoformat(),
            "end": next_scan.latest.isoformat(),
        }


def test_the_risk_is_a_risk_assessment(client: TestClient) -> None:
    patient_id = import_ok(client, prior_sptb())
    risk = only(client, "RiskAssessment", patient_id)
    expected = expected_assessment(prior_sptb()).risk
    assert risk["status"] == "final"
    assert risk["method"]["text"] == "Saving Babies' Lives v3.1 history tier"
    tier, *evidence = risk["prediction"]
    assert tier["qualitativeRisk"]["text"].startswith(f"{expected.tier} (")
    assert tier["qualitativeRisk"]["coding"][0]["code"] == "high"
    assert [p["rationale"] for p in evidence] == [
        f"{e.figure}: {e.statement}" for e in expected.evidence
    ]
    assert evidence, "a previous sPTB has a published recurrence figure"
    notes = " ".join(n["text"] for n in risk["note"])
    for item in expected.evidence:
        assert item.citation.rstrip(".") in notes


def test_an_urgent_symptom_report_is_a_flag_and_a_reviewed_one_none(client: TestClient) -> None:
    report = fb.symptom_report(REPORTED, contractions=True)
    patient_id = import_ok(client, short_cervix(report))
    flag = only(client, "Flag", patient_id)
    assert flag["status"] == "active"
    assert flag["category"][0]["coding"][0]["code"] == "clinical"
    assert flag["code"]["coding"][0] == {
        "system": c.CW,
        "code": "urgent-evaluation",
        "display": RECOMMENDATION_CODES["urgent-evaluation"],
    }
    assert flag["period"] == {"start": "2026-03-01"}  # the day the report was made
    assert "contractions" in flag["code"]["text"]
    group = only(client, "RequestGroup", patient_id)
    assert all(a["priority"] == "urgent" for a in actions(group, "urgent-evaluation"))
    # Reviewed (a later Bundle with the review): no Flag.
    reviewed = fb.review("QuestionnaireResponse/symptoms", "2026-03-01T15:00:00+00:00")
    import_ok(client, fb.bundle(reviewed))
    assert search(client, "Flag", patient=f"Patient/{patient_id}") == []
    assert not actions(only(client, "RequestGroup", patient_id), "urgent-evaluation")


# --- read, search, $everything --------------------------------------------------------------


def test_everything_includes_the_assessment_and_each_reads_back(client: TestClient) -> None:
    patient_id = import_ok(client, short_cervix(fb.symptom_report(REPORTED, bleeding=True)))
    bundle = valid(everything(client, patient_id))
    found = {
        r["resourceType"]: r for r in resources(bundle) if r["resourceType"] in ASSESSMENT_TYPES
    }
    assert set(found) == set(ASSESSMENT_TYPES)
    for kind, resource in found.items():
        assert resource["id"].startswith("assessment-")
        assert resource["subject"] == {"reference": f"Patient/{patient_id}"}
        # Read twice, the same; searched by id, the same.
        assert get(client, f"{kind}/{resource['id']}") == resource
        assert get(client, f"{kind}/{resource['id']}") == resource
        assert search(client, kind, _id=resource["id"]) == [resource]
        assert search(client, kind, subject=patient_id) == [resource]
    # `_type` narrows to them.
    narrowed = client.get(f"/fhir/Patient/{patient_id}/$everything", params={"_type": "Flag"})
    assert [r["resourceType"] for r in resources(narrowed.json())] == ["Flag"]
    # Another type's id, or an unknown row, is not found.
    assert client.get(f"/fhir/Observation/{found['Flag']['id']}").status_code == 404
    assert client.get("/fhir/GuidanceResponse/assessment-999999").status_code == 404


def test_search_across_women_and_paging(client: TestClient) -> None:
    first = import_ok(client, short_cervix())
    other = orjson.loads(orjson.dumps(prior_sptb()).replace(b"p1", b"p2"))
    second = import_ok(client, other)
    assert first != second
    everyone = search(client, "GuidanceResponse")
    assert {r["subject"]["reference"] for r in everyone} == {
        f"Patient/{first}",
        f"Patient/{second}",
    }
    page = client.get("/fhir/RiskAssessment", params={"_count": 1}).json()
    assert page["total"] == 2
    assert len(page["entry"]) == 1
    assert any(link["relation"] == "next" for link in page["link"])


# --- CodeSystem and Questionnaire -----------------------------------------------------------


def test_the_code_system_has_every_recommendation_code(client: TestClient) -> None:
    (by_url,) = search(client, "CodeSystem", url=c.CW)
    read = get(client, "CodeSystem/cervixwatch")
    assert by_url == read
    assert read["url"] == c.CW
    assert read["content"] == "complete"
    concepts = {concept["code"]: concept for concept in read["concept"]}
    assert set(RECOMMENDATION_CODES) <= set(concepts)
    for code in RECOMMENDATION_CODES:
        assert concepts[code]["display"]
        assert concepts[code]["definition"].startswith("Recommendation: ")
    # Every code the assessment and the records are written with resolves.
    patient_id = import_ok(client, short_cervix(fb.symptom_report(REPORTED, fever=True)))
    used = {
        coding["code"]
        for r in resources(everything(client, patient_id))
        for coding in _codings(r)
        if coding.get("system") == c.CW
    }
    assert used
    assert used <= set(concepts)
    assert search(client, "CodeSystem", url="https://example.org/other") == []
    assert client.get("/fhir/CodeSystem/other").status_code == 404


def _codings(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if "system" in value and "code" in value:
            yield value
        for inner in value.values():
            yield from _codings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _codings(inner)


def test_a_response_to_the_served_questionnaire_is_read(client: TestClient) -> None:
    (questionnaire,) = search(client, "Questionnaire", url=c.SYMPTOMS_QUESTIONNAIRE)
    assert get(client, "Questionnaire/symptoms") == questionnaire
    assert {item["linkId"] for item in questionnaire["item"]} == {s.value for s in Symptom}
    answer = valid(
        {
            "resourceType": "QuestionnaireResponse",
            "id": "answered",
            "questionnaire": questionnaire["url"],
            "status": "completed",
            "subject": fb.subject(),
            "authored": REPORTED,
            "item": [
                {"linkId": item["linkId"], "answer": [{"valueBoolean": True}]}
                for item in questionnaire["item"]
                if item["type"] == "boolean"
            ],
        }
    )
    records = records_from_bundle(fb.bundle(fb.edd(EDD), answer), TODAY)
    (report,) = records.symptom_reports
    assert report.present == frozenset(Symptom)
    assert report.reported_on == dt.date(2026, 3, 1)
    # Sent to the server, it is stored and makes her assessment urgent.
    patient_id = import_ok(client, fb.bundle(fb.edd(EDD), answer))
    assert only(client, "Flag", patient_id)["period"]["start"] == "2026-03-01"


def test_definitions_need_a_signed_in_user(client: TestClient) -> None:
    for path in ("CodeSystem/cervixwatch", "Questionnaire?url=" + c.SYMPTOMS_QUESTIONNAIRE):
        anonymous = client.get(f"/fhir/{path}", headers={"Authorization": ""})
        assert anonymous.status_code == 401
    _, token = make_user(client, Role.AUDITOR)  # no one's clinician, yet may read them
    answer = client.get(
        "/fhir/CodeSystem/cervixwatch", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200


# --- an independent client over HTTP --------------------------------------------------------


@pytest.fixture
def served(engine: Engine) -> Iterator[tuple[str, TestClient]]:
    """The app served over HTTP, with a client of it for setting up: (base URL of the FHIR
    facade, test client)."""
    with live_server.served(engine) as base:
        app = create_app(test_settings(engine), today=lambda: TODAY)
        with TestClient(app) as setup, emptied(engine, setup):
            yield f"{base}/fhir", setup


def test_fhirpy_finds_her_guidance_response_and_follows_it(
    served: tuple[str, TestClient],
) -> None:
    base, setup = served
    _, token = make_user(setup, Role.CLINICIAN, teams=(TEAM,))
    setup.headers["Authorization"] = f"Bearer {token}"
    patient_id = import_ok(setup, prior_sptb())
    fhir = SyncFHIRClient(base, authorization=f"Bearer {token}")
    responses = fhir.resources("GuidanceResponse").search(patient=f"Patient/{patient_id}").fetch()
    assert len(responses) == 1
    response = responses[0]
    assert response["subject"]["reference"] == f"Patient/{patient_id}"
    followed = fhir.reference(reference=response["result"]["reference"]).to_resource()
    assert followed["resourceType"] == "RequestGroup"
    group = valid(dict(followed.serialize()))  # type: ignore[no-untyped-call]
    scans = actions(group, "serial-cervical-length")
    assert scans
    proposal = contained(group, scans[0])
    assert proposal is not None
    assert proposal["resourceType"] == "ServiceRequest"
    # The same by `subject`, and the risk by the same client.
    by_subject = fhir.resources("GuidanceResponse").search(subject=f"Patient/{patient_id}")
    assert [r["id"] for r in by_subject.fetch()] == [response["id"]]
    risk = fhir.resources("RiskAssessment").search(patient=patient_id).first()
    assert risk is not None
    assert risk["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == "high"
