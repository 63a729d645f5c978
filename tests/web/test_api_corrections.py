"""Corrections and plausibility through the JSON API and the FHIR import (issue 13, part 3):
a warning is a 422 with its code and `confirm`, stored once confirmed; a hard limit is a 422
naming the field (an OperationOutcome naming the element, for a Bundle); an amendment and an
entry in error need a reason, keep the correction, reassess, and keep the earlier version in
the FHIR history; a record entered in error leaves the assessment and the lists and is read in
FHIR with the status entered-in-error. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cervixwatch.store.models import AuditEventRow, RecordCorrectionRow
from tests import fhir_builders as fb
from tests.r4_schema import assert_r4
from tests.web.api_builders import ok, woman
from tests.web.conftest import TODAY
from tests.web.fhir_client import HEADERS, emptied, import_ok, issue, post_bundle, shared_app

YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[TestClient]:
    with shared_app(engine) as client:
        yield client


@pytest.fixture
def client(shared: TestClient, engine: Engine) -> Iterator[TestClient]:
    with emptied(engine, shared) as client:
        yield client


def _lengths(client: TestClient, pregnancy_id: str) -> str:
    return f"/api/pregnancies/{pregnancy_id}/cervical-lengths"


def _scan(mm: float, on: dt.date = YESTERDAY) -> dict[str, Any]:
    return {"measured_on": on.isoformat(), "length_mm": mm}


def _counted(client: TestClient, pregnancy_id: str) -> str:
    """The lengths the assessment counts, in words ("... 18 mm ...")."""
    found: dict[str, Any] = ok(client.get(f"/api/pregnancies/{pregnancy_id}/assessment"))
    return " | ".join(found["cervical_lengths"])


def _sessions(client: TestClient) -> Any:
    return client.app.state.sessions  # type: ignore[attr-defined]


def test_a_length_under_5_mm_asks_for_confirmation_then_is_stored(client: TestClient) -> None:
    _, pregnancy_id = woman(client)
    refused = client.post(_lengths(client, pregnancy_id), json=_scan(2.5))
    assert refused.status_code == 422, refused.text
    [warning] = refused.json()["detail"]
    assert warning["type"] == "plausibility_warning"
    assert warning["code"] == "cervical-length-under-5-mm"
    assert warning["loc"] == ["body", "length_mm"]
    assert warning["confirm"] is True
    assert "did you mean 2.5 cm" in warning["msg"]
    assert ok(client.get(_lengths(client, pregnancy_id))) == []  # nothing stored
    # Another code confirms nothing.
    other = client.post(
        _lengths(client, pregnancy_id),
        params={"confirm": "cervical-length-over-60-mm"},
        json=_scan(2.5),
    )
    assert other.status_code == 422
    stored = ok(
        client.post(
            _lengths(client, pregnancy_id),
            params={"confirm": warning["code"]},
            json=_scan(2.5),
        ),
        201,
    )
    assert stored["length_mm"] == 2.5
    assert stored["assessment"] is not None


@pytest.mark.parametrize(
    ("mm", "code"), [(60.5, "cervical-length-over-60-mm"), (4.9, "cervical-length-under-5-mm")]
)
def test_each_warning_of_a_length_has_its_code(client: TestClient, mm: float, code: str) -> None:
    _, pregnancy_id = woman(client)
    refused = client.post(_lengths(client, pregnancy_id), json=_scan(mm))
    assert [w["code"] for w in refused.json()["detail"]] == [code]
    # The limits themselves are plausible (80 mm is not refused, but is over 60 mm).
    for fine in (5, 60):
        ok(client.post(_lengths(client, pregnancy_id), json=_scan(fine, TODAY)), 201)
    confirmed = {"confirm": "cervical-length-over-60-mm"}
    ok(client.post(_lengths(client, pregnancy_id), params=confirmed, json=_scan(80, TODAY)), 201)


def test_85_mm_is_refused_naming_the_field(client: TestClient) -> None:
    _, pregnancy_id = woman(client)
    refused = client.post(
        _lengths(client, pregnancy_id),
        params={"confirm": "cervical-length-over-60-mm"},
        json=_scan(85),
    )
    assert refused.status_code == 422
    [error] = refused.json()["detail"]
    assert error["loc"] == ["body", "length_mm"]
    assert "80" in error["msg"]
    assert ok(client.get(_lengths(client, pregnancy_id))) == []


def test_the_same_value_on_the_same_day_and_a_removal_without_placement_warn(
    client: TestClient,
) -> None:
    _, pregnancy_id = woman(client)
    ok(client.post(_lengths(client, pregnancy_id), json=_scan(22)), 201)
    again = client.post(_lengths(client, pregnancy_id), json=_scan(22))
    assert [w["code"] for w in again.json()["detail"]] == ["same-value-same-day"]
    ok(client.post(_lengths(client, pregnancy_id), json=_scan(23)), 201)  # another value
    ok(client.post(_lengths(client, pregnancy_id), json=_scan(22, TODAY)), 201)  # another day
    removals = f"/api/pregnancies/{pregnancy_id}/cerclage-removals"
    refused = client.post(removals, json={"removed_on": TODAY.isoformat()})
    assert refused.status_code == 422
    [warning] = refused.json()["detail"]
    assert (warning["code"], warning["loc"]) == (
        "cerclage-removal-without-placement",
        ["body", "removed_on"],
    )
    placements = f"/api/pregnancies/{pregnancy_id}/cerclage-placements"
    placed = {"placed_on": YESTERDAY.isoformat(), "route": "transvaginal"}
    ok(client.post(placements, json=placed), 201)
    ok(client.post(removals, json={"removed_on": TODAY.isoformat()}), 201)


def test_a_previous_pregnancy_beyond_44_weeks_is_refused(client: TestClient) -> None:
    patient_id, _ = woman(client)
    history = f"/api/patients/{patient_id}/prior-pregnancies"
    refused = client.post(history, json={"ended": "2022", "gestation_days": 44 * 7 + 1})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "gestation_days"]
    ok(client.post(history, json={"ended": "2022", "gestation_days": 44 * 7}), 201)


def test_an_amendment_needs_a_reason_keeps_the_correction_and_reassesses(
    client: TestClient,
) -> None:
    _, pregnancy_id = woman(client)
    scan = ok(client.post(_lengths(client, pregnancy_id), json=_scan(35)), 201)
    amend = f"/api/cervical-lengths/{scan['id']}/amendments"
    no_reason = client.post(amend, json={"reason": " ", "changes": {"length_mm": 15}})
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    unchanged = client.post(amend, json={"reason": "typo", "changes": {"length_mm": 35}})
    assert unchanged.status_code == 422
    assert unchanged.json()["detail"][0]["loc"] == ["body", "changes"]
    # A warning of the amended value is asked too, by where it is in the body.
    slip = client.post(amend, json={"reason": "typo", "changes": {"length_mm": 1.5}})
    assert slip.json()["detail"][0]["loc"] == ["body", "changes", "length_mm"]
    amended = ok(
        client.post(amend, json={"reason": "typed 35 for 15", "changes": {"length_mm": 15}})
    )
    assert amended["length_mm"] == 15
    assert "15 mm" in _counted(client, pregnancy_id)
    assert "35 mm" not in _counted(client, pregnancy_id)
    with _sessions(client)() as session:
        [kept] = session.scalars(select(RecordCorrectionRow)).all()
        assert (kept.change, kept.reason, kept.record_id) == (
            "amended",
            "typed 35 for 15",
            scan["id"],
        )
        assert kept.before["length_mm"] == 35
        assert kept.corrected_by is not None
        routes = set(session.scalars(select(AuditEventRow.route)))
    assert "/api/cervical-lengths/{record_id}/amendments" in routes
    history = client.get(f"/fhir/Observation/cl-{scan['id']}/_history", headers=HEADERS).json()
    values = [e["resource"]["valueQuantity"]["value"] for e in history["entry"]]
    assert values == [15, 35]  # newest first: the earlier version is kept


def test_entered_in_error_leaves_the_assessment_and_stays_in_the_history(
    client: TestClient,
) -> None:
    patient_id = import_ok(client, fb.bundle(fb.edd(), fb.cervical_length(18, rid="cl-1")))
    [row] = [
        r["id"]
        for p in ok(client.get(f"/api/patients/{patient_id}/pregnancies"))
        for r in ok(client.get(_lengths(client, p["id"])))
    ]
    pregnancy_id = ok(client.get(f"/api/patients/{patient_id}/pregnancies"))[0]["id"]
    assert "18 mm" in _counted(client, pregnancy_id)
    mark = f"/api/cervical-lengths/{row}/entered-in-error"
    assert client.post(mark, json={}).status_code == 422  # the reason is required
    answer = ok(client.post(mark, json={"reason": "another woman's scan"}))
    assert answer["assessment"]["pregnancy_id"] == pregnancy_id
    assert _counted(client, pregnancy_id) == ""
    assert ok(client.get(_lengths(client, pregnancy_id))) == []
    assert client.get(f"/api/cervical-lengths/{row}").status_code == 404
    # FHIR: read as entered in error, the earlier version in its history.
    read = client.get(f"/fhir/Observation/cl-{row}", headers=HEADERS)
    assert read.status_code == 200, read.text
    assert read.json()["status"] == "entered-in-error"
    assert read.json()["meta"]["versionId"] == "2"
    assert_r4(read.json())
    history = client.get(f"/fhir/Observation/cl-{row}/_history", headers=HEADERS).json()
    assert [e["resource"]["status"] for e in history["entry"]] == ["entered-in-error", "final"]
    assert_r4(history)
    found = client.get("/fhir/Observation", params={"patient": patient_id}, headers=HEADERS)
    assert f"cl-{row}" not in {e["resource"]["id"] for e in found.json().get("entry", [])}
    with _sessions(client)() as session:
        [kept] = session.scalars(select(RecordCorrectionRow)).all()
        assert (kept.change, kept.reason) == ("entered-in-error", "another woman's scan")
        assert kept.before["length_mm"] == 18
    # A later write keeps the marker as the last version (no deletion after it); a new
    # length gets an id of its own, never the removed one's (on SQLite too: migration 0024),
    # so it does not inherit that history.
    later = ok(client.post(_lengths(client, pregnancy_id), json=_scan(30)), 201)
    assert later["id"] > row
    again = client.get(f"/fhir/Observation/cl-{row}/_history", headers=HEADERS).json()
    assert again["total"] == 2
    fresh = client.get(f"/fhir/Observation/cl-{later['id']}/_history", headers=HEADERS).json()
    assert fresh["total"] == 1


def test_no_way_in_changes_or_removes_a_record_without_keeping_a_correction(
    client: TestClient,
) -> None:
    """The JSON API's PATCH and DELETE need a reason, and every change or removal, those and
    a feed's (a FHIR DELETE, a record sent again as entered in error), is kept as a
    correction with the values before (issue 13, part 3)."""
    bundle = fb.bundle(
        fb.edd(),
        fb.cervical_length(22, rid="cl-a"),
        fb.cervical_length(30, "2026-02-09", rid="cl-b"),
    )
    patient_id = import_ok(client, bundle)
    pregnancy_id = ok(client.get(f"/api/patients/{patient_id}/pregnancies"))[0]["id"]
    scan = ok(client.post(_lengths(client, pregnancy_id), json=_scan(35)), 201)
    one = f"/api/cervical-lengths/{scan['id']}"
    for refused in (
        client.patch(one, json={"length_mm": 34}),
        client.patch(one, params={"reason": " "}, json={"length_mm": 34}),
        client.delete(one),
        client.delete(one, params={"reason": "  "}),
    ):
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["query", "reason"]
    unchanged = client.patch(one, params={"reason": "typo"}, json={"length_mm": 35})
    assert unchanged.status_code == 422
    ok(client.patch(one, params={"reason": "typed 35 for 34"}, json={"length_mm": 34}))
    assert client.delete(one, params={"reason": "another woman's scan"}).status_code == 204
    # Feeds: the first imported length deleted by its FHIR id, the second sent again as
    # entered in error.
    stored = {m["length_mm"]: m["id"] for m in ok(client.get(_lengths(client, pregnancy_id)))}
    deleted = client.delete(f"/fhir/Observation/cl-{stored[22]}", headers=HEADERS)
    assert deleted.status_code == 204, deleted.text
    withdrawn = fb.bundle(
        fb.edd(), fb.cervical_length(30, "2026-02-09", rid="cl-b", status="entered-in-error")
    )
    assert post_bundle(client, withdrawn).status_code == 200
    assert ok(client.get(_lengths(client, pregnancy_id))) == []
    with _sessions(client)() as session:
        kept = session.scalars(select(RecordCorrectionRow).order_by(RecordCorrectionRow.id)).all()
    assert [(k.change, k.reason, k.before["length_mm"]) for k in kept] == [
        ("amended", "typed 35 for 34", 35),
        ("entered-in-error", "another woman's scan", 34),
        ("entered-in-error", "deleted by its source (FHIR DELETE)", 22),
        (
            "entered-in-error",
            "withdrawn by its source (sent again as entered in error, or refuted)",
            30,
        ),
    ]
    assert all(k.corrected_by is not None and k.patient_id == patient_id for k in kept)
    assert [k.record_id for k in kept] == [scan["id"], scan["id"], stored[22], stored[30]]


def test_a_condition_entered_in_error_says_so_by_its_verification_status(
    client: TestClient,
) -> None:
    patient_id, pregnancy_id = woman(client)
    noted = ok(
        client.post(
            f"/api/pregnancies/{pregnancy_id}/complications",
            json={"complication": "vaginal-bleeding", "noted_on": YESTERDAY.isoformat()},
        ),
        201,
    )
    mark = f"/api/complications/{noted['id']}/entered-in-error"
    ok(client.post(mark, json={"reason": "recorded for the wrong woman"}))
    read = client.get(f"/fhir/Condition/complication-{noted['id']}", headers=HEADERS).json()
    assert read["verificationStatus"]["coding"][0]["code"] == "entered-in-error"
    assert "clinicalStatus" not in read
    assert_r4(read)
    assert patient_id


def test_the_fhir_import_refuses_a_hard_limit_and_stores_a_warning(client: TestClient) -> None:
    refused = issue(post_bundle(client, fb.bundle(fb.edd(), fb.cervical_length(85))), 422)
    assert refused["expression"] == ["Bundle.entry[2].resource.valueQuantity.value"]
    assert "80 mm" in refused["diagnostics"]
    beyond = issue(post_bundle(client, fb.bundle(fb.edd(), fb.prior_pregnancy(weeks=44.2))), 422)
    assert beyond["expression"][0].startswith("Bundle.entry[2].resource.component")
    # A warning cannot be confirmed by a feed: stored as sent.
    patient_id = import_ok(client, fb.bundle(fb.edd(), fb.cervical_length(2.5)))
    pregnancy_id = ok(client.get(f"/api/patients/{patient_id}/pregnancies"))[0]["id"]
    assert [r["length_mm"] for r in ok(client.get(_lengths(client, pregnancy_id)))] == [2.5]
