"""Women and their pregnancies through the JSON API: register, find, read, correct; start,
re-date and end a pregnancy."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select

from cervixwatch.store.models import RecordCorrectionRow
from tests.web.api_builders import counts, edd_for, ok, patient, pregnancy, scan, woman
from tests.web.conftest import TODAY

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def test_register_read_and_correct_a_woman(client: TestClient) -> None:
    response = client.post(
        "/api/patients",
        json={"hospital_number": "H-001", "family_name": " Okafor ", "given_name": "Ada"},
    )
    created = ok(response, 201)
    assert response.headers["location"].endswith(f"/api/patients/{created['id']}")
    assert created["hospital_number"] == "H-001"
    assert created["family_name"] == "Okafor"  # trimmed
    assert created["active_pregnancy_id"] is None
    assert ok(client.get(f"/api/patients/{created['id']}")) == created

    corrected = ok(
        client.patch(
            f"/api/patients/{created['id']}", json={"given_name": "Adaeze", "birth_date": None}
        )
    )
    assert corrected["given_name"] == "Adaeze"
    assert corrected["family_name"] == "Okafor"
    assert corrected["assessment"] is None  # no pregnancy to assess yet
    assert ok(client.get(f"/api/patients/{created['id']}"))["given_name"] == "Adaeze"


def test_a_hospital_number_names_one_woman(client: TestClient) -> None:
    first = patient(client, "H-001")
    second = patient(client, "H-002")
    before = counts(client)
    again = client.post("/api/patients", json={"hospital_number": "H-001"})
    assert again.status_code == 409
    assert "H-001" in again.json()["detail"]
    taken = client.patch(f"/api/patients/{second['id']}", json={"hospital_number": "H-001"})
    assert taken.status_code == 409
    assert counts(client) == before
    # Her own number again is no conflict.
    ok(client.patch(f"/api/patients/{first['id']}", json={"hospital_number": "H-001"}))


def test_find_women_by_name_or_hospital_number_a_page_at_a_time(client: TestClient) -> None:
    for number, family, given in (
        ("H-100", "Smith", "Jane"),
        ("H-101", "Smithson", "Amy"),
        ("H-200", "Jones", "Mary"),
        ("X_9%", "Brown", "Ann"),
    ):
        patient(client, number, family_name=family, given_name=given)
    everyone = ok(client.get("/api/patients"))
    assert everyone["total"] == 4
    assert [p["family_name"] for p in everyone["items"]] == ["Brown", "Jones", "Smith", "Smithson"]

    assert [p["given_name"] for p in ok(client.get("/api/patients?search=smith"))["items"]] == [
        "Jane",
        "Amy",
    ]
    assert ok(client.get("/api/patients?search=smith amy"))["total"] == 1
    assert ok(client.get("/api/patients?search=H-2"))["items"][0]["family_name"] == "Jones"
    # % and _ are themselves, not wildcards.
    assert ok(client.get("/api/patients", params={"search": "_9%"}))["total"] == 1
    assert ok(client.get("/api/patients", params={"search": "%"}))["total"] == 1

    page = ok(client.get("/api/patients?page=2&page_size=3"))
    assert (page["total"], page["page"], page["page_size"]) == (4, 2, 3)
    assert [p["family_name"] for p in page["items"]] == ["Smithson"]
    assert ok(client.get("/api/patients?page=9"))["items"] == []


def test_unknown_women_and_pregnancies_answer_404(client: TestClient) -> None:
    for response in (
        client.get(f"/api/patients/{UNKNOWN}"),
        client.patch(f"/api/patients/{UNKNOWN}", json={"given_name": "A"}),
        client.get(f"/api/patients/{UNKNOWN}/pregnancies"),
        client.post(f"/api/patients/{UNKNOWN}/pregnancies", json={}),
        client.get(f"/api/pregnancies/{UNKNOWN}"),
        client.patch(f"/api/pregnancies/{UNKNOWN}", json={"fetuses": 2}),
        client.get(f"/api/pregnancies/{UNKNOWN}/assessment"),
        client.get("/api/pregnancies/x'%20OR%201=1/assessment"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["detail"].startswith("no ")
    assert sum(counts(client).values()) == 0


def test_start_a_pregnancy_assessed_at_once(client: TestClient) -> None:
    patient_id = patient(client)["id"]
    response = client.post(
        f"/api/patients/{patient_id}/pregnancies",
        json={"edd": edd_for("19+0").isoformat(), "fetuses": 1},
    )
    started = ok(response, 201)
    assert response.headers["location"].endswith(f"/api/pregnancies/{started['id']}")
    assert started["status"] == "active"
    assert started["edd"] == edd_for("19+0").isoformat()
    assert started["assessment"]["gestational_age"] == {"weeks": 19, "days": 0, "text": "19+0"}
    assert ok(client.get(f"/api/patients/{patient_id}"))["active_pregnancy_id"] == started["id"]
    read = ok(client.get(f"/api/pregnancies/{started['id']}"))
    assert read == {k: v for k, v in started.items() if k != "assessment"}
    assert ok(client.get(f"/api/patients/{patient_id}/pregnancies")) == [read]
    assert counts(client)["assessments"] == 1


def test_one_active_pregnancy_at_a_time(client: TestClient) -> None:
    patient_id, first = woman(client)
    before = counts(client)
    second = client.post(f"/api/patients/{patient_id}/pregnancies", json={"fetuses": 1})
    assert second.status_code == 409
    assert first in second.json()["detail"]
    assert counts(client) == before

    ended = ok(
        client.patch(
            f"/api/pregnancies/{first}",
            json={"status": "ended", "ended_on": TODAY.isoformat()},
        )
    )
    assert (ended["status"], ended["ended_on"]) == ("ended", TODAY.isoformat())
    assert ok(client.get(f"/api/patients/{patient_id}"))["active_pregnancy_id"] is None
    next_one = pregnancy(client, patient_id, "6+0")
    # The first cannot become active again while the second is.
    again = client.patch(f"/api/pregnancies/{first}", json={"status": "active"})
    assert again.status_code == 409
    assert [p["id"] for p in ok(client.get(f"/api/patients/{patient_id}/pregnancies"))] == [
        first,
        next_one["id"],
    ]


def test_re_dating_moves_the_gestational_age_and_keeps_records_inside(client: TestClient) -> None:
    _, pregnancy_id = woman(client, ga_today="19+0")
    redated = ok(
        client.patch(
            f"/api/pregnancies/{pregnancy_id}",
            json={"edd": edd_for("20+0").isoformat(), "reason": "12-week scan"},
        )
    )
    assert redated["assessment"]["gestational_age"]["text"] == "20+0"
    scan(client, pregnancy_id, 30, TODAY - dt.timedelta(days=100))  # at 5+5
    before = counts(client)
    # Re-dated to 10+0 today, that scan would be before the pregnancy began.
    moved = client.patch(
        f"/api/pregnancies/{pregnancy_id}",
        json={"edd": edd_for("10+0").isoformat(), "reason": "dating scan"},
    )
    assert moved.status_code == 422
    error = moved.json()["detail"][0]
    assert error["loc"] == ["body", "edd"]
    assert "cervical length" in error["msg"]
    assert counts(client) == before
    assert ok(client.get(f"/api/pregnancies/{pregnancy_id}"))["edd"] == edd_for("20+0").isoformat()


def test_twins_and_an_unknown_count(client: TestClient) -> None:
    _, pregnancy_id = woman(client)
    twins = ok(
        client.patch(
            f"/api/pregnancies/{pregnancy_id}", json={"fetuses": 2, "reason": "two sacs seen"}
        )
    )
    assert twins["fetuses"] == 2
    unknown = ok(
        client.patch(
            f"/api/pregnancies/{pregnancy_id}",
            json={"fetuses": None, "reason": "one sac on the 12-week scan, not two"},
        )
    )
    assert unknown["fetuses"] is None
    document = ok(client.get(f"/api/pregnancies/{pregnancy_id}/assessment"))
    assert "the number of fetuses (taken as one)" in document["missing"]


def test_a_method_a_path_lacks_is_refused_naming_those_it_has(client: TestClient) -> None:
    response = client.request("OPTIONS", "/api/cervical-lengths/1")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PATCH"
    assert client.put("/api/patients", json={}).headers["allow"] == "GET, POST"


def test_amending_a_recorded_edd_needs_a_reason_and_is_kept(client: TestClient) -> None:
    """Issue 13, part 2: a recorded EDD or fetus count changed is an amendment, with its
    reason; what it was is kept as a correction. Recording one not yet recorded is not."""
    _, pregnancy_id = woman(client, ga_today="19+0")
    path = f"/api/pregnancies/{pregnancy_id}"
    recorded = ok(client.get(path))["edd"]
    before = counts(client)
    refused = client.patch(path, json={"edd": edd_for("20+0").isoformat()})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", "reason"]
    assert "amending the recorded EDD" in refused.json()["detail"][0]["msg"]
    assert counts(client) == before
    assert ok(client.get(path))["edd"] == recorded

    ok(client.patch(path, json={"edd": edd_for("20+0").isoformat(), "reason": "12-week scan"}))
    fetuses = ok(client.get(path))["fetuses"]
    ok(client.patch(path, json={"fetuses": None, "reason": "count to be confirmed"}))
    ok(client.patch(path, json={"fetuses": 2}))  # not recorded now: no reason needed
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        kept = session.scalars(
            select(RecordCorrectionRow)
            .where(RecordCorrectionRow.record_key == pregnancy_id)
            .order_by(RecordCorrectionRow.id)
        ).all()
    assert [(c.record_table, c.record_id, c.change.value, c.reason) for c in kept] == [
        ("pregnancies", None, "amended", "12-week scan"),
        ("pregnancies", None, "amended", "count to be confirmed"),
    ]
    unrecorded = {"dating_method": None, "chorionicity": None}
    assert kept[0].before == {"edd": recorded, "fetuses": fetuses, **unrecorded}
    assert kept[1].before == {"edd": edd_for("20+0").isoformat(), "fetuses": fetuses, **unrecorded}
    assert all(c.corrected_by is not None for c in kept)
