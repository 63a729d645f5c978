"""order-select / order-sign warn against orders the guideline speaks against (with its rule
and citation); feedback on any card is stored, audited and reported to auditors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from joserfc.jwk import ECKey
from sqlalchemy import Engine, select

from cervixwatch.access.principal import Role
from cervixwatch.store.models import AuditEventRow, CdsFeedbackRow
from cervixwatch.web.app import create_app
from tests.cds_hooks.conftest import TODAY, cds_app_settings
from tests.cds_hooks.ehr import (
    BASE,
    EhrServer,
    auth,
    cerclage_order,
    medication_order,
    order_request,
    patient_view,
    prefetch_of,
    signed,
    woman,
)
from tests.web.accounts import bearer, make_user

CW = "https://cervixwatch.org/fhir/CodeSystem/cervixwatch"
PROGESTERONE = (CW, "vaginal-progesterone")
HYDROXYPROGESTERONE = (CW, "hydroxyprogesterone-caproate")


def hook(client: TestClient, key: ECKey, service: str, body: dict[str, Any]) -> Any:
    path = f"/cds-services/{service}"
    answer = client.post(path, json=body, headers=auth(signed(key, BASE + path)))
    assert answer.status_code == 200, answer.text
    return answer.json()["cards"]


def rules(cards: list[dict[str, Any]]) -> set[str]:
    return {line for c in cards for line in c["detail"].splitlines() if line.startswith("- Rule:")}


def test_progesterone_in_twins_is_warned_against_by_acog(cds: TestClient, ehr_key: ECKey) -> None:
    twins = prefetch_of(woman(TODAY, fetuses=2, prior_sptb=False, length_mm=18))
    body = order_request("order-select", [medication_order("103", PROGESTERONE)], twins)
    cards = hook(cds, ehr_key, "cervixwatch-order-select", body)
    assert len(cards) == 1
    card = cards[0]
    assert card["indicator"] == "warning"
    assert len(card["summary"]) < 140
    assert "ACOG234-06" in card["summary"]
    assert "- Rule: ACOG234-06" in card["detail"]
    assert "Citation: American College of Obstetricians" in card["detail"]
    delete = card["suggestions"][0]["actions"][0]
    assert delete == {
        "type": "delete",
        "description": "Remove MedicationRequest/103 from the draft orders",
        "resourceId": ["MedicationRequest/103"],
    }
    # A singleton's progesterone order is no concern of these checks.
    singleton = prefetch_of(woman(TODAY, prior_sptb=False, length_mm=18))
    body = order_request("order-select", [medication_order("104", PROGESTERONE)], singleton)
    assert hook(cds, ehr_key, "cervixwatch-order-select", body) == []


def test_nice_allows_progesterone_in_twins_but_not_cerclage(
    engine: Engine, ehr_key: ECKey, ehr: EhrServer
) -> None:
    settings = cds_app_settings(engine, ehr, cds_hooks_guideline="nice")
    twins = prefetch_of(woman(TODAY, fetuses=2, prior_sptb=False, length_mm=18))
    orders = [medication_order("103", PROGESTERONE), cerclage_order("201")]
    with TestClient(create_app(settings, today=lambda: TODAY)) as client:
        cards = hook(
            client, ehr_key, "cervixwatch-order-sign", order_request("order-sign", orders, twins)
        )
    assert [c["suggestions"][0]["actions"][0]["resourceId"] for c in cards] == [
        ["ServiceRequest/201"]
    ]
    assert rules(cards) == {"- Rule: NICE-T1"}


def test_17ohpc_and_a_contraindicated_cerclage_are_warned_against(
    cds: TestClient, ehr_key: ECKey
) -> None:
    ruptured = prefetch_of(woman(TODAY, ruptured_membranes=True))
    orders = [medication_order("301", HYDROXYPROGESTERONE), cerclage_order("302")]
    cards = hook(
        cds, ehr_key, "cervixwatch-order-sign", order_request("order-sign", orders, ruptured)
    )
    found = rules(cards)
    assert "- Rule: FDA-01, SMFM23-01, SMFM23-04" in found
    assert "- Rule: ACOG142-07" in found
    contraindicated = next(c for c in cards if "ACOG142-07" in c["summary"])
    assert "ruptured membranes: yes" in contraindicated["detail"]
    # Without the rupture, the same cerclage order draws no contraindication.
    intact = prefetch_of(woman(TODAY))
    cards = hook(
        cds,
        ehr_key,
        "cervixwatch-order-sign",
        order_request("order-sign", [cerclage_order("303")], intact),
    )
    assert cards == []
    # An order-sign request without its draft orders is refused, naming the field.
    body = order_request("order-sign", [], intact)
    del body["context"]["draftOrders"]
    path = "/cds-services/cervixwatch-order-sign"
    refused = cds.post(path, json=body, headers=auth(signed(ehr_key, BASE + path)))
    assert refused.status_code == 400
    assert "draftOrders" in refused.json()["detail"]


def test_feedback_is_stored_audited_and_reported(cds: TestClient, ehr_key: ECKey) -> None:
    cards = hook(
        cds,
        ehr_key,
        "cervixwatch-patient-view",
        patient_view(prefetch=prefetch_of(woman(TODAY))),
    )
    accepted = next(c for c in cards if c.get("suggestions"))
    overridden = next(c for c in cards if c is not accepted)
    path = "/cds-services/cervixwatch-patient-view/feedback"
    now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    body = {
        "feedback": [
            {
                "card": accepted["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": accepted["suggestions"][0]["uuid"]}],
                "outcomeTimestamp": now,
            },
            {
                "card": overridden["uuid"],
                "outcome": "overridden",
                "overrideReason": {
                    "reason": overridden["overrideReasons"][1],
                    "userComment": "Discussed in clinic; she prefers to wait.",
                },
                "outcomeTimestamp": now,
            },
        ]
    }
    answer = cds.post(path, json=body, headers=auth(signed(ehr_key, BASE + path)))
    assert answer.status_code == 200, answer.text
    bad = {"feedback": [{"card": accepted["uuid"], "outcome": "ignored"}]}
    refused = cds.post(path, json=bad, headers=auth(signed(ehr_key, BASE + path)))
    assert refused.status_code == 400
    assert "feedback[0].outcome" in refused.json()["detail"]
    sessions = cds.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        assert len(session.scalars(select(CdsFeedbackRow)).all()) == 2
        actions = [e.action for e in session.scalars(select(AuditEventRow)).all()]
    assert actions.count("cds-feedback") == 2  # the stored one, and the refused one
    _, token = make_user(cds, Role.AUDITOR)
    report = cds.get("/api/cds-hooks/feedback", headers=bearer(token))
    assert report.status_code == 200, report.text
    by_card = {item["card"]: item for item in report.json()["feedback"]}
    assert by_card[accepted["uuid"]]["outcome"] == "accepted"
    item = by_card[overridden["uuid"]]
    assert item["override_reason"]["code"] == "patient-declined"
    assert item["user_comment"] == "Discussed in clinic; she prefers to wait."
    assert item["code"] == overridden["source"]["topic"]["code"]
    assert item["rules"]
    _, clinician = make_user(cds, Role.CLINICIAN)
    assert cds.get("/api/cds-hooks/feedback", headers=bearer(clinician)).status_code == 403
    # The audit log shows the EHR's requests, in the API and as FHIR AuditEvents.
    log = cds.get("/api/audit-events", params={"action": "cds-feedback"}, headers=bearer(token))
    assert log.status_code == 200, log.text
    assert {(e["actor_role"], e["status"]) for e in log.json()["items"]} == {
        ("ehr", 200),
        ("ehr", 400),
    }
    events = cds.get("/fhir/AuditEvent", headers=bearer(token))
    assert events.status_code == 200, events.text
