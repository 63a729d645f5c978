"""Scans booked through the JSON API (issue 13, part 4), on SQLite and PostgreSQL: a booking
keeps the assessment's scan window; a past day, a second booking on one day, a day outside
the pregnancy and an ended pregnancy are refused, each naming its field; a booking whose
time passed without a cervical length that day is missed, and attended once a length is
dated its day; the worklist's summary (next booked, missed) reads the same."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from cervixwatch.app import appointments
from tests.web.api_builders import ok, prior_sptb, scan, woman
from tests.web.conftest import TODAY


def _url(pregnancy_id: str) -> str:
    return f"/api/pregnancies/{pregnancy_id}/appointments"


def _book(client: TestClient, pregnancy_id: str, on: dt.date, at: str = "09:30") -> Any:
    return client.post(
        _url(pregnancy_id), json={"scheduled_on": on.isoformat(), "scheduled_at": at}
    )


def _field_of(response: Any) -> list[str]:
    detail = response.json()["detail"]
    return [str(d["loc"][-1]) for d in detail] if isinstance(detail, list) else []


def test_booking_keeps_the_plan_window_and_refuses_what_cannot_be(client: TestClient) -> None:
    patient_id, pregnancy_id = woman(client)
    prior_sptb(client, patient_id)  # serial scans from 16+0 (NICE, RCOG): one is due at 19+0
    in_three_days = TODAY + dt.timedelta(days=3)
    booked = ok(_book(client, pregnancy_id, in_three_days), 201)
    assert booked["state"] == "booked"
    assert booked["scheduled_at"] == "09:30:00"
    assert booked["window_from"] is not None
    assert booked["window_to"] is not None
    assert dt.date.fromisoformat(booked["window_from"]) <= TODAY

    refused = _book(client, pregnancy_id, TODAY - dt.timedelta(days=1))
    assert refused.status_code == 422, refused.text
    assert "scheduled_on" in _field_of(refused), refused.text
    twice = _book(client, pregnancy_id, in_three_days, "14:00")
    assert twice.status_code == 422, twice.text
    assert "booked on" in twice.text, twice.text
    outside = _book(client, pregnancy_id, TODAY + dt.timedelta(days=400))
    assert outside.status_code == 422, outside.text
    assert "outside this pregnancy" in outside.text, outside.text
    bad_time = _book(client, pregnancy_id, in_three_days, "25:00")
    assert bad_time.status_code == 422, bad_time.text
    assert "scheduled_at" in _field_of(bad_time), bad_time.text

    listed = ok(client.get(_url(pregnancy_id)))
    assert [b["id"] for b in listed] == [booked["id"]]

    cancelled = ok(client.post(f"{_url(pregnancy_id)}/{booked['id']}/cancel"))
    assert cancelled["state"] == "cancelled"
    assert client.post(f"{_url(pregnancy_id)}/{booked['id']}/cancel").status_code == 409
    assert client.get(_url("no-such-pregnancy")).status_code == 404

    ok(
        client.patch(
            f"/api/pregnancies/{pregnancy_id}",
            json={"status": "ended", "ended_on": TODAY.isoformat()},
        )
    )
    ended = _book(client, pregnancy_id, in_three_days)
    assert ended.status_code == 409, ended.text
    assert "ended" in ended.text, ended.text


def test_a_booking_passed_without_a_length_is_missed_until_one_is_dated_its_day(
    client: TestClient,
) -> None:
    _, pregnancy_id = woman(client)
    scan_day = TODAY + dt.timedelta(days=2)
    later = ok(_book(client, pregnancy_id, TODAY + dt.timedelta(days=9)), 201)
    missed = ok(_book(client, pregnancy_id, scan_day, "10:15"), 201)
    sessions = client.app.state.sessions  # type: ignore[attr-defined]

    client.app.state.today = lambda: TODAY + dt.timedelta(days=4)  # type: ignore[attr-defined]
    states = {b["id"]: b["state"] for b in ok(client.get(_url(pregnancy_id)))}
    assert states == {missed["id"]: "missed", later["id"]: "booked"}
    now = appointments.clinic_now(TODAY + dt.timedelta(days=4))
    summary = appointments.booking_summaries(sessions, [pregnancy_id], now)[pregnancy_id]
    assert summary.missed is not None
    assert summary.missed.id == missed["id"]
    assert summary.next_booked is not None
    assert summary.next_booked.id == later["id"]

    scan(client, pregnancy_id, 31.0, scan_day)  # the length was entered late: attended
    states = {b["id"]: b["state"] for b in ok(client.get(_url(pregnancy_id)))}
    assert states[missed["id"]] == "attended"
    summary = appointments.booking_summaries(sessions, [pregnancy_id], now)[pregnancy_id]
    assert summary.missed is None
