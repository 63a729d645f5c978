"""patient-view: the assessment's due actions as cards, from the prefetch or, without it,
from the EHR's FHIR server; 412 when neither gives the data."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from joserfc.jwk import ECKey
from sqlalchemy import select

from cervixwatch.access.principal import Role
from cervixwatch.app.cds_auth import issuer_id
from cervixwatch.store.models import AuditEventRow, CdsCardRow, PatientIdentifierRow
from tests.cds_hooks.conftest import TODAY
from tests.cds_hooks.ehr import (
    BASE,
    ISSUER,
    EhrServer,
    auth,
    patient_view,
    prefetch_of,
    signed,
    woman,
)
from tests.web.accounts import TEAM, bearer, make_user

SERVICE = "/cds-services/cervixwatch-patient-view"


def call(client: TestClient, key: ECKey, body: dict[str, Any]) -> Any:
    return client.post(SERVICE, json=body, headers=auth(signed(key, BASE + SERVICE)))


def test_discovery_lists_the_services_with_their_prefetch(cds: TestClient, ehr_key: ECKey) -> None:
    answer = cds.get("/cds-services", headers=auth(signed(ehr_key, BASE + "/cds-services")))
    assert answer.status_code == 200, answer.text
    services = {s["hook"]: s for s in answer.json()["services"]}
    assert set(services) == {"patient-view", "order-select", "order-sign"}
    prefetch = services["patient-view"]["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert "http://loinc.org|11961-0" in prefetch["observations"]
    for key in ("conditions", "procedures", "medicationRequests", "questionnaireResponses"):
        assert "patient={{context.patientId}}" in prefetch[key]
    # No patient data in it: answered without a JWT too, but a JWT sent must verify.
    anonymous = cds.get("/cds-services")
    assert anonymous.status_code == 200, anonymous.text
    assert anonymous.json() == answer.json()
    elsewhere = auth(signed(ehr_key, BASE + "/cds-services/patient-view"))
    assert cds.get("/cds-services", headers=elsewhere).status_code == 401


def test_patient_view_answers_one_card_per_due_action(cds: TestClient, ehr_key: ECKey) -> None:
    """Prior sPTB at 32+0, 27 mm at 19+6, today 20+0 (acog): weekly serial scans (25-29
    mm) and progesterone by shared decision (SMFM23-03)."""
    body = patient_view(prefetch=prefetch_of(woman(TODAY, length_mm=27)))
    answer = call(cds, ehr_key, body)
    assert answer.status_code == 200, answer.text
    cards = answer.json()["cards"]
    codes = {c["source"]["topic"]["code"]: c for c in cards}
    assert {"serial-cervical-length", "vaginal-progesterone"} == set(codes)
    assert "no-activity-restriction" not in codes  # advice stays on the page
    uuids = [c["uuid"] for c in cards] + [
        s["uuid"] for c in cards for s in c.get("suggestions", ())
    ]
    assert len(set(uuids)) == len(uuids)
    assert all(uuid.UUID(u) for u in uuids)
    for card in cards:
        assert len(card["summary"]) < 140
        assert card["indicator"] == "info"  # nothing urgent or overdue
        assert "- Rule: " in card["detail"]
        assert "- Citation: " in card["detail"]
        assert "- Provenance: " in card["detail"]
        assert "Facts:" in card["detail"]
        assert card["source"]["url"].startswith(BASE + "/cds-services/rules/acog/")
        assert {r["code"] for r in card["overrideReasons"]} >= {"patient-declined"}
    progesterone = codes["vaginal-progesterone"]["suggestions"][0]["actions"][0]
    assert progesterone["type"] == "create"
    assert progesterone["resource"]["resourceType"] == "MedicationRequest"
    assert progesterone["resource"]["subject"] == {"reference": "Patient/1288992"}
    scan = codes["serial-cervical-length"]["suggestions"][0]["actions"][0]["resource"]
    assert scan["resourceType"] == "ServiceRequest"
    assert scan["code"]["coding"][0]["code"] == "11961-0"
    assert scan["occurrencePeriod"]["start"] >= TODAY.isoformat()
    # The rule's explanation page the card links to answers, for anyone.
    page = cds.get(codes["vaginal-progesterone"]["source"]["url"].removeprefix(BASE))
    assert page.status_code == 200
    assert "SMFM23-03" in page.text
    # Stored, with one audit entry naming the EHR.
    sessions = cds.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        stored = session.scalars(select(CdsCardRow)).all()
        entry = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "cds-patient-view")
        ).all()[-1]
    assert {row.uuid for row in stored} == {c["uuid"] for c in cards}
    assert {row.ehr_patient for row in stored} == {"1288992"}
    assert entry.actor_id == issuer_id(ISSUER)
    assert entry.status == 200


def test_an_open_bleeding_report_is_a_critical_card_first(cds: TestClient, ehr_key: ECKey) -> None:
    body = patient_view(prefetch=prefetch_of(woman(TODAY, bleeding_report=True)))
    cards = call(cds, ehr_key, body).json()["cards"]
    assert cards[0]["indicator"] == "critical"
    assert cards[0]["source"]["topic"]["code"] == "urgent-evaluation"


def test_without_prefetch_the_data_is_read_from_the_fhir_server(
    cds: TestClient, ehr_key: ECKey, ehr: EhrServer
) -> None:
    ehr.resources = woman(TODAY)
    ehr.token = "opaque-fhir-token"
    with_prefetch = call(cds, ehr_key, patient_view(prefetch=prefetch_of(woman(TODAY)))).json()
    fetched = call(
        cds, ehr_key, patient_view(fhir_server=ehr.fhir_base, access_token="opaque-fhir-token")
    )
    assert fetched.status_code == 200, fetched.text
    assert sorted(c["summary"] for c in fetched.json()["cards"]) == sorted(
        c["summary"] for c in with_prefetch["cards"]
    )
    fhir_calls = [(path, token) for path, token in ehr.seen if path.startswith("/fhir/")]
    assert ("/fhir/Patient/1288992", "Bearer opaque-fhir-token") in fhir_calls
    assert all(token == "Bearer opaque-fhir-token" for _, token in fhir_calls)


def test_412_when_neither_prefetch_nor_the_fhir_server_gives_the_data(
    cds: TestClient, ehr_key: ECKey, ehr: EhrServer
) -> None:
    alone = call(cds, ehr_key, patient_view())
    assert alone.status_code == 412, alone.text
    ehr.resources = woman(TODAY)
    ehr.token = "the-right-token"
    refused = call(cds, ehr_key, patient_view(fhir_server=ehr.fhir_base, access_token="wrong"))
    assert refused.status_code == 412
    assert "answered 401" in refused.json()["detail"]
    no_patient = prefetch_of(woman(TODAY))
    no_patient["patient"] = None  # the EHR has no such patient
    assert call(cds, ehr_key, patient_view(prefetch=no_patient)).status_code == 412


def test_bad_requests_name_the_field(cds: TestClient, ehr_key: ECKey) -> None:
    body = patient_view(prefetch=prefetch_of(woman(TODAY)))
    del body["context"]["patientId"]
    answer = call(cds, ehr_key, body)
    assert answer.status_code == 400
    assert "context.patientId" in answer.json()["detail"]
    wrong_unit = prefetch_of(woman(TODAY))
    wrong_unit["observations"]["entry"][-1]["resource"]["valueQuantity"]["code"] = "kg"
    wrong_unit["observations"]["entry"][-1]["resource"]["valueQuantity"]["unit"] = "kg"
    answer = call(cds, ehr_key, patient_view(prefetch=wrong_unit))
    assert answer.status_code == 422
    assert "cl-1" in answer.json()["detail"]


def test_the_audit_entry_names_the_woman_when_she_is_known_here(
    cds: TestClient, ehr_key: ECKey
) -> None:
    """The EHR's Patient carries her hospital number (system and value); a woman registered
    here under it is the one the audit entry names, so her record's audit trail shows it."""
    _, token = make_user(cds, Role.CLINICIAN, teams=(TEAM,))
    entries = [{"resource": r} for r in woman(TODAY)]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    imported = cds.post("/fhir", json=bundle, headers=bearer(token))
    assert imported.status_code < 300, imported.text
    sessions = cds.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        her = session.scalar(
            select(PatientIdentifierRow.patient_id).where(
                PatientIdentifierRow.value == "MRN-1288992"
            )
        )
    assert her is not None
    assert call(cds, ehr_key, patient_view(prefetch=prefetch_of(woman(TODAY)))).status_code == 200
    with sessions() as session:
        entry = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.action == "cds-patient-view")
            .order_by(AuditEventRow.id.desc())
        ).first()
    assert entry is not None
    assert entry.patient_id == her
