"""The course of care through the JSON API and the FHIR facade: complications with their dates
(the as_of cut: CD-06), declined offers, and reviews of symptom reports (CD-07), each stored,
read back, exported as FHIR and imported again without storing anything twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from fastapi.testclient import TestClient

from cervixwatch.knowledge import codes as c
from cervixwatch.store import load_records
from cervixwatch.store.models import AuditEventRow, Role
from tests import fhir_builders as fb
from tests.web.accounts import bearer, make_user
from tests.web.api_builders import counts, day_at, ok, prior_sptb, scan, woman
from tests.web.conftest import TODAY
from tests.web.fhir_client import HEADERS

YESTERDAY = TODAY - dt.timedelta(days=1)
REFUSAL = {"system": c.REFUSAL_BY_PATIENT[0], "code": c.REFUSAL_BY_PATIENT[1]}


def _recommendations(
    client: TestClient, pregnancy_id: str, on: dt.date
) -> dict[str, dict[str, Any]]:
    """{code: recommendation} of the ACOG profile's assessment of the pregnancy on `on`."""
    document = ok(
        client.get(f"/api/pregnancies/{pregnancy_id}/assessment?guideline=acog&as_of={on}")
    )
    return {r["code"]: r for r in document["recommendations"]}


def _everything(client: TestClient, patient_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = ok(client.get(f"/fhir/Patient/{patient_id}/$everything"))
    return answer


def _of_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _reimport(client: TestClient, bundle: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/fhir", content=orjson.dumps(bundle), headers=HEADERS)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _short_cervix_at_19_weeks(client: TestClient) -> tuple[str, str]:
    """A woman at 19+0 with a previous sPTB at 30+0 and a 22 mm cervix: cerclage and vaginal
    progesterone are offered."""
    patient_id, pregnancy_id = woman(client, ga_today="19+0")
    prior_sptb(client, patient_id)
    scan(client, pregnancy_id, 22, day_at("18+0", "19+0"))
    return patient_id, pregnancy_id


# --- CD-06: a complication counts from the day it is noted -------------------------------------


def test_an_infection_noted_today_is_not_known_to_yesterdays_assessment(
    client: TestClient,
) -> None:
    _, pregnancy_id = _short_cervix_at_19_weeks(client)
    assert "cerclage-contraindicated" not in _recommendations(client, pregnancy_id, TODAY)

    written = ok(
        client.post(
            f"/api/pregnancies/{pregnancy_id}/complications",
            json={"complication": "chorioamnionitis", "noted_on": TODAY.isoformat()},
        ),
        201,
    )
    assert "cerclage-contraindicated" in written["assessment"]["codes"]["acog"]
    yesterday = _recommendations(client, pregnancy_id, YESTERDAY)
    assert "cerclage-contraindicated" not in yesterday
    assert "ultrasound-indicated-cerclage" in yesterday
    assert "cerclage-contraindicated" in _recommendations(client, pregnancy_id, TODAY)


def test_an_infection_imported_with_its_onset_counts_from_that_day(client: TestClient) -> None:
    """The FHIR path: a Condition with onset 2026-03-02 is stored with that day, so the
    assessment of 2026-03-01 does not know it, and the export keeps it."""
    bundle = fb.bundle(
        fb.edd("2026-07-13"),  # 19+0 on TODAY
        fb.prior_pregnancy("live-birth", 30.0, "spontaneous-labour"),
        fb.cervical_length(22, "2026-02-23", rid="cl-1"),
        fb.condition(c.CHORIOAMNIONITIS, rid="infection", onsetDateTime=TODAY.isoformat()),
    )
    answer = _reimport(client, bundle)
    patient_id = answer["entry"][0]["response"]["location"].removeprefix("Patient/")
    pregnancy_id = ok(client.get(f"/api/patients/{patient_id}/pregnancies"))[0]["id"]
    yesterday = _recommendations(client, pregnancy_id, YESTERDAY)
    assert "cerclage-contraindicated" not in yesterday
    assert "ultrasound-indicated-cerclage" in yesterday
    assert "cerclage-contraindicated" in _recommendations(client, pregnancy_id, TODAY)
    [condition] = _of_type(_everything(client, patient_id), "Condition")
    assert condition["onsetDateTime"] == TODAY.isoformat()


def test_a_resolved_complication_is_kept_and_exported_with_its_dates(client: TestClient) -> None:
    patient_id, pregnancy_id = _short_cervix_at_19_weeks(client)
    noted, resolved = TODAY - dt.timedelta(days=10), TODAY - dt.timedelta(days=3)
    ok(
        client.post(
            f"/api/pregnancies/{pregnancy_id}/complications",
            json={
                "complication": "vaginal-bleeding",
                "noted_on": noted.isoformat(),
                "resolved_on": resolved.isoformat(),
            },
        ),
        201,
    )
    assert "cerclage-contraindicated" not in _recommendations(client, pregnancy_id, TODAY)
    during = _recommendations(client, pregnancy_id, resolved - dt.timedelta(days=1))
    assert "cerclage-contraindicated" in during
    [condition] = _of_type(_everything(client, patient_id), "Condition")
    assert (condition["onsetDateTime"], condition["abatementDateTime"]) == (
        noted.isoformat(),
        resolved.isoformat(),
    )


def test_an_order_stopped_without_a_date_stopped_today(client: TestClient) -> None:
    """It stays in her record, in place for an earlier day's assessment (not dropped)."""
    _, pregnancy_id = _short_cervix_at_19_weeks(client)
    started = (TODAY - dt.timedelta(days=7)).isoformat()
    order = ok(
        client.post(
            f"/api/pregnancies/{pregnancy_id}/medications",
            json={"medication": "vaginal-progesterone", "started_on": started},
        ),
        201,
    )
    stopped = ok(
        client.patch(
            f"/api/medications/{order['id']}",
            params={"reason": "stopped"},
            json={"status": "stopped"},
        )
    )
    assert stopped["stopped_on"] == TODAY.isoformat()
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        [stored] = load_records(session, pregnancy_id).medications
    assert (stored.active_on(YESTERDAY), stored.active_on(TODAY)) == (True, False)
    assert _recommendations(client, pregnancy_id, YESTERDAY)["vaginal-progesterone"]["state"] == (
        "in-place"
    )


# --- declined offers ---------------------------------------------------------------------------


def test_a_declined_progesterone_is_stored_exported_and_imported_once(client: TestClient) -> None:
    patient_id, pregnancy_id = _short_cervix_at_19_weeks(client)
    assert _recommendations(client, pregnancy_id, TODAY)["vaginal-progesterone"]["state"] == "due"

    created = ok(
        client.post(
            f"/api/pregnancies/{pregnancy_id}/declined-decisions",
            json={"code": "vaginal-progesterone", "declined_on": YESTERDAY.isoformat()},
        ),
        201,
    )
    assert (created["code"], created["declined_on"]) == ("vaginal-progesterone", str(YESTERDAY))
    listed = ok(client.get(f"/api/pregnancies/{pregnancy_id}/declined-decisions"))
    assert [d["id"] for d in listed] == [created["id"]]
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        [declined] = load_records(session, pregnancy_id).declined
    assert (declined.code.value, declined.declined_on) == ("vaginal-progesterone", YESTERDAY)
    assert _recommendations(client, pregnancy_id, TODAY)["vaginal-progesterone"]["state"] == (
        "declined"
    )

    exported = _everything(client, patient_id)
    [statement] = _of_type(exported, "MedicationStatement")
    assert statement["id"] == f"declined-{created['id']}"
    assert statement["status"] == "not-taken"
    assert REFUSAL in statement["statusReason"][0]["coding"]
    assert statement["effectiveDateTime"] == YESTERDAY.isoformat()
    assert ok(client.get(f"/fhir/MedicationStatement/{statement['id']}")) == statement
    search = ok(client.get(f"/fhir/MedicationStatement?patient=Patient/{patient_id}"))
    assert [e["resource"]["id"] for e in search["entry"]] == [statement["id"]]

    stored = counts(client)
    answer = _reimport(client, exported)
    assert counts(client) == stored
    locations = [e["response"].get("location") for e in answer["entry"]]
    assert f"MedicationStatement/{statement['id']}" in locations


def test_a_declined_offer_sent_from_an_ehr_is_stored_once(client: TestClient) -> None:
    """A cerclage Procedure not done, with no reason given: each transvaginal cerclage
    declined; sent again, nothing new; sent as done after all, the declines are gone."""
    procedure = fb.declined_procedure(c.CERCLAGE_VAGINAL, "2026-02-20", rid="proc-1")
    bundle = fb.bundle(fb.edd("2026-07-20"), procedure)
    first = _reimport(client, bundle)
    patient_id = first["entry"][0]["response"]["location"].removeprefix("Patient/")
    declined = _of_type(_everything(client, patient_id), "Procedure")
    assert len(declined) == 3
    assert {d["status"] for d in declined} == {"not-done"}
    stored = counts(client)
    assert stored["declined_decisions"] == 3
    _reimport(client, bundle)
    assert counts(client) == stored

    done = fb.procedure(c.CERCLAGE_VAGINAL, "2026-02-20", rid="proc-1")
    _reimport(client, fb.bundle(fb.edd("2026-07-20"), done))
    after = counts(client)
    assert (after["declined_decisions"], after["cerclage_placements"]) == (0, 1)


def test_a_declined_decision_names_the_field_it_refuses(client: TestClient) -> None:
    _, pregnancy_id = woman(client)
    path = f"/api/pregnancies/{pregnancy_id}/declined-decisions"
    for body, field in (
        ({"code": "bed-rest", "declined_on": str(YESTERDAY)}, "code"),
        ({"code": "vaginal-progesterone"}, "declined_on"),
        (
            {"code": "vaginal-progesterone", "declined_on": str(TODAY + dt.timedelta(1))},
            "declined_on",
        ),
    ):
        answer = client.post(path, json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"][-1] == field


# --- reviews of symptom reports (CD-07) ---------------------------------------------------------


def _urgent_report(client: TestClient) -> tuple[str, str, dict[str, Any]]:
    patient_id, pregnancy_id = woman(client, ga_today="30+0")
    report = ok(
        client.post(
            f"/api/pregnancies/{pregnancy_id}/symptom-reports",
            json={"reported_on": YESTERDAY.isoformat(), "present": ["contractions"]},
        ),
        201,
    )
    assert report["assessment"]["urgent"] is True
    assert report["reviews"] == []
    return patient_id, pregnancy_id, report


def test_a_review_closes_the_report_and_is_exported_as_a_task(client: TestClient) -> None:
    username = client.get("/auth/me").json()["username"]
    patient_id, pregnancy_id, report = _urgent_report(client)
    assert report["reported_by"] == username  # entered by the clinician

    answer = client.post(
        f"/api/symptom-reports/{report['id']}/reviews", json={"outcome": "seen-in-triage"}
    )
    review = ok(answer, 201)
    assert answer.headers["location"].endswith(f"/api/symptom-reviews/{review['id']}")
    assert (review["reviewed_on"], review["outcome"], review["reviewer"]) == (
        TODAY.isoformat(),
        "seen-in-triage",
        username,
    )
    assert review["assessment"]["urgent"] is False
    assert ok(client.get(f"/api/symptom-reviews/{review['id']}")) == {
        k: v for k, v in review.items() if k != "assessment"
    }
    read = ok(client.get(f"/api/symptom-reports/{report['id']}"))
    assert [r["id"] for r in read["reviews"]] == [review["id"]]
    assert ok(client.get(f"/api/symptom-reports/{report['id']}/reviews")) == read["reviews"]
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        [stored] = load_records(session, pregnancy_id).symptom_reports
    assert stored.review_by(TODAY) is not None
    # The day before the review, nobody had looked yet: still urgent then.
    assert "urgent-evaluation" in _recommendations(client, pregnancy_id, YESTERDAY)
    assert "urgent-evaluation" not in _recommendations(client, pregnancy_id, TODAY)

    exported = _everything(client, patient_id)
    [task] = _of_type(exported, "Task")
    assert task["id"] == f"review-{review['id']}"
    assert task["status"] == "completed"
    assert task["code"]["coding"] == [{"system": c.CW, "code": "symptom-report-review"}]
    assert task["focus"] == {"reference": f"QuestionnaireResponse/symptoms-{report['id']}"}
    assert task["for"] == {"reference": f"Patient/{patient_id}"}
    assert task["executionPeriod"]["end"] == TODAY.isoformat()
    assert task["owner"] == {"display": username}
    assert task["businessStatus"]["coding"] == [{"system": c.CW, "code": "seen-in-triage"}]
    search = ok(client.get(f"/fhir/Task?patient={patient_id}"))
    assert [e["resource"] for e in search["entry"]] == [task]
    assert ok(client.get(f"/fhir/Task/{task['id']}")) == task

    stored_counts = counts(client)
    _reimport(client, exported)
    assert counts(client) == stored_counts


def test_a_review_names_who_and_when_if_given_and_is_audited(client: TestClient) -> None:
    patient_id, _, report = _urgent_report(client)
    answer = client.post(
        f"/api/symptom-reports/{report['id']}/reviews",
        json={
            "outcome": "advised-by-phone",
            "reviewer": "Midwife B",
            "reviewed_on": str(YESTERDAY),
            "note": "  Advised to come in if the bleeding returns.\nScan booked for Friday.  ",
        },
    )
    review = ok(answer, 201)
    assert (review["reviewer"], review["reviewed_on"]) == ("Midwife B", YESTERDAY.isoformat())
    # The note is kept as written (trimmed), with the instant the review was recorded.
    note = "Advised to come in if the bleeding returns.\nScan booked for Friday."
    assert review["note"] == note
    assert review["reviewed_at"] is not None
    assert ok(client.get(f"/api/symptom-reviews/{review['id']}"))["note"] == note
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        entry = (
            session.query(AuditEventRow).filter_by(request_id=answer.headers["x-request-id"]).one()
        )
    assert (entry.action, entry.patient_id, entry.status) == ("write", patient_id, 201)
    assert entry.route == "/api/symptom-reports/{record_id}/reviews"


def test_a_review_refuses_what_cannot_be_right_naming_the_field(client: TestClient) -> None:
    _, _, report = _urgent_report(client)
    path = f"/api/symptom-reports/{report['id']}/reviews"
    before = counts(client)
    for body, field in (
        ({}, "outcome"),
        ({"outcome": "ignored"}, "outcome"),
        ({"outcome": "admitted", "reviewed_on": str(TODAY + dt.timedelta(1))}, "reviewed_on"),
        ({"outcome": "admitted", "reviewed_on": str(YESTERDAY - dt.timedelta(1))}, "reviewed_on"),
        ({"outcome": "admitted", "note": "x" * 1001}, "note"),
        ({"outcome": "admitted", "note": "a bell\u0007"}, "note"),
    ):
        answer = client.post(path, json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"][-1] == field, answer.text
    assert counts(client) == before
    assert (
        client.post("/api/symptom-reports/999999/reviews", json={"outcome": "admitted"}).status_code
        == 404
    )


def test_the_woman_sees_the_review_but_may_not_review(client: TestClient) -> None:
    patient_id, _, report = _urgent_report(client)
    ok(
        client.post(f"/api/symptom-reports/{report['id']}/reviews", json={"outcome": "admitted"}),
        201,
    )
    _, token = make_user(client, Role.PATIENT, patient_id=patient_id)
    her = bearer(token)
    answer = client.post(
        f"/api/symptom-reports/{report['id']}/reviews", json={"outcome": "admitted"}, headers=her
    )
    assert answer.status_code == 403
    reviews = ok(client.get(f"/api/symptom-reports/{report['id']}/reviews", headers=her))
    assert [r["outcome"] for r in reviews] == ["admitted"]
    mine = ok(
        client.post(
            f"/api/pregnancies/{report['pregnancy_id']}/symptom-reports",
            json={"reported_on": TODAY.isoformat(), "present": ["backache"]},
            headers=her,
        ),
        201,
    )
    assert mine["reported_by"] is None  # she reported it herself: shown as "the woman"


def test_deleting_a_review_opens_the_report_again(client: TestClient) -> None:
    _, _, report = _urgent_report(client)
    review = ok(
        client.post(f"/api/symptom-reports/{report['id']}/reviews", json={"outcome": "admitted"}),
        201,
    )
    assert client.delete(f"/api/symptom-reviews/{review['id']}").status_code == 204
    assert client.get(f"/api/symptom-reviews/{review['id']}").status_code == 404
    assert ok(client.get(f"/api/symptom-reports/{report['id']}"))["reviews"] == []
    assert "urgent-evaluation" in _recommendations(client, report["pregnancy_id"], TODAY)


def test_a_review_sent_after_its_report_in_a_bundle_of_its_own(client: TestClient) -> None:
    """The EHR sends the report, then hours later the Task of its review alone: the review is
    stored with the report, which is no longer urgent; sent again, nothing new."""
    report = fb.symptom_report("2026-03-01", rid="qr-1", contractions=True)
    first = _reimport(client, fb.bundle(fb.edd("2026-05-18"), report))
    patient_id = first["entry"][0]["response"]["location"].removeprefix("Patient/")
    assert "urgent-evaluation" in str(first["entry"][0]["response"]["outcome"])

    task = fb.review("QuestionnaireResponse/qr-1", "2026-03-02T09:00:00+00:00", rid="task-1")
    later = fb.bundle(task)
    answer = _reimport(client, later)
    [_, entry] = answer["entry"]
    assert entry["response"]["location"].startswith("Task/review-")
    assert "1 record(s) received, 1 stored new" in str(answer["entry"][0]["response"]["outcome"])
    assert "urgent-evaluation" not in str(answer["entry"][0]["response"]["outcome"])
    stored = counts(client)
    assert (stored["symptom_reports"], stored["symptom_reviews"]) == (1, 1)
    _reimport(client, later)
    assert counts(client) == stored
    # Named by the id $everything gives the report, a second review finds it too.
    [qr] = _of_type(_everything(client, patient_id), "QuestionnaireResponse")
    second = fb.review(f"QuestionnaireResponse/{qr['id']}", "2026-03-02", "admitted", rid="task-2")
    second["for"] = {"reference": f"Patient/{patient_id}"}
    _reimport(client, fb.bundle(second, with_patient=False))
    assert counts(client)["symptom_reviews"] == 2
    assert counts(client)["symptom_reports"] == 1
