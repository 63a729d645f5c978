"""Create, read, list, amend and delete every kind of clinical record through the JSON API;
every write answers with the assessment it left current."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.api_builders import counts, ok, patient, woman
from tests.web.conftest import TODAY

YESTERDAY = TODAY - dt.timedelta(days=1)
OWNER_FIELD = {"patients": "patient_id", "pregnancies": "pregnancy_id"}

#: The reason a PATCH or DELETE must give.
WHY = {"reason": "entered in error"}


@dataclass(frozen=True)
class Kind:
    collection: str
    owner: str  # "patients" or "pregnancies"
    create: dict[str, Any]
    update: dict[str, Any]
    #: What the record reads as after `create`, where it differs from what was sent.
    read_as: dict[str, Any] = field(default_factory=dict)
    #: The plausibility warnings its writes confirm (`?confirm=`, issue 13, part 3).
    confirm: tuple[str, ...] = ()


KINDS = [
    Kind(
        "prior-pregnancies",
        "patients",
        {
            "ended": "2021-06",
            "outcome": "miscarriage",
            "gestation_days": 140,
            "onset": "painless-cervical-dilation",
        },
        {"gestation_days": 150, "ended": "2021-06-14"},
    ),
    Kind(
        "cervical-excisions",
        "patients",
        {"kind": "lletz", "depth_mm": 12, "performed": "2019"},
        {"depth_mm": 8.5, "performed": None},
    ),
    Kind(
        "maternal-conditions",
        "patients",
        {"condition": "uterine-anomaly"},
        {"condition": "intrauterine-adhesions"},
    ),
    Kind(
        "cervical-lengths",
        "pregnancies",
        {
            "measured_on": YESTERDAY.isoformat(),
            "length_mm": 31.5,
            "operator": "Dr A Sonographer",
            "device": "Voluson E10",
        },
        {"length_mm": 24, "method": "transabdominal"},
        read_as={"method": "transvaginal"},
    ),
    Kind(
        "cervical-exams",
        "pregnancies",
        {
            "examined_on": YESTERDAY.isoformat(),
            "dilation_cm": 0,
            "effacement_percent": 20,
            "membranes_exposed": False,
        },
        {"dilation_cm": 1.5, "effacement_percent": None},
    ),
    Kind(
        "fibronectin-tests",
        "pregnancies",
        {"tested_on": YESTERDAY.isoformat(), "ng_per_ml": 12},
        {"positive": False},
        read_as={"positive": None},
    ),
    Kind(
        "symptom-reports",
        "pregnancies",
        {
            "reported_on": YESTERDAY.isoformat(),
            "reported_at": f"{YESTERDAY.isoformat()}T09:30:00Z",
            "present": ["backache"],
            "absent": ["fever", "bleeding"],
        },
        {"present": [], "absent": ["backache", "fever"]},
        read_as={"absent": ["bleeding", "fever"]},
    ),
    Kind(
        "complications",
        "pregnancies",
        {"complication": "vaginal-bleeding", "noted_on": YESTERDAY.isoformat()},
        {"resolved_on": TODAY.isoformat()},
        read_as={"resolved_on": None},
    ),
    Kind(
        "cerclage-placements",
        "pregnancies",
        {
            "placed_on": YESTERDAY.isoformat(),
            "route": "transvaginal",
            "indication": "ultrasound-indicated",
        },
        {"indication": "exam-indicated"},
    ),
    Kind(
        "cerclage-removals",
        "pregnancies",
        {"removed_on": YESTERDAY.isoformat()},
        {"removed_on": TODAY.isoformat()},
        # Alone, with no placement recorded: a warning, confirmed.
        confirm=("cerclage-removal-without-placement",),
    ),
    Kind(
        "medications",
        "pregnancies",
        {"medication": "vaginal-progesterone", "started_on": YESTERDAY.isoformat()},
        {"status": "stopped", "stopped_on": TODAY.isoformat()},
        read_as={"status": "active", "stopped_on": None},
    ),
    Kind(
        "declined-decisions",
        "pregnancies",
        {"code": "vaginal-progesterone", "declined_on": YESTERDAY.isoformat()},
        {"code": "ultrasound-indicated-cerclage"},
    ),
]


def _same(record: dict[str, Any], expected: dict[str, Any]) -> None:
    for name, value in expected.items():
        got = record[name]
        if isinstance(value, int | float) and not isinstance(value, bool):
            assert got == pytest.approx(value), name
        elif isinstance(value, str) and name.endswith("_at"):
            assert dt.datetime.fromisoformat(got) == dt.datetime.fromisoformat(value), name
        else:
            assert got == value, name


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.collection)
def test_create_read_list_update_delete(client: TestClient, kind: Kind) -> None:
    patient_id, pregnancy_id = woman(client)
    owner_id = patient_id if kind.owner == "patients" else pregnancy_id
    collection = f"/api/{kind.owner}/{owner_id}/{kind.collection}"

    confirmed = {"confirm": list(kind.confirm)}
    response = client.post(collection, params=confirmed, json=kind.create)
    created = ok(response, 201)
    assert response.headers["location"].endswith(f"/api/{kind.collection}/{created['id']}")
    _same(created, {**kind.create, **kind.read_as})
    assert created["source"] == "form"
    assert created[OWNER_FIELD[kind.owner]] == owner_id
    # A record of the woman's history reassesses her active pregnancy.
    assert created["assessment"]["pregnancy_id"] == pregnancy_id
    assert created["assessment"]["as_of"] == TODAY.isoformat()
    one = f"/api/{kind.collection}/{created['id']}"
    record = {k: v for k, v in created.items() if k != "assessment"}
    assert ok(client.get(one)) == record
    assert ok(client.get(collection)) == [record]

    updated = ok(
        client.patch(
            one, params={**confirmed, "reason": "typed on the wrong day"}, json=kind.update
        )
    )
    _same(updated, kind.update)
    unchanged = {k: v for k, v in record.items() if k not in kind.update}
    assert {k: updated[k] for k in unchanged} == unchanged
    assert updated["assessment"]["pregnancy_id"] == pregnancy_id
    assert ok(client.get(one)) == {k: v for k, v in updated.items() if k != "assessment"}

    before = counts(client)
    # Neither amended nor removed without a reason (issue 13, part 3).
    assert client.delete(one).status_code == 422
    assert client.delete(one, params={"reason": "entered for the wrong woman"}).status_code == 204
    assert counts(client)[_table(kind)] == before[_table(kind)] - 1
    assert client.get(one).status_code == 404
    assert ok(client.get(collection)) == []


def _table(kind: Kind) -> str:
    return {
        "prior-pregnancies": "prior_pregnancies",
        "cervical-excisions": "cervical_excisions",
        "maternal-conditions": "maternal_conditions",
        "cervical-lengths": "cervical_lengths",
        "cervical-exams": "cervical_exams",
        "fibronectin-tests": "fibronectin_tests",
        "symptom-reports": "symptom_reports",
        "complications": "complications",
        "cerclage-placements": "cerclage_placements",
        "cerclage-removals": "cerclage_removals",
        "medications": "medications",
        "declined-decisions": "declined_decisions",
    }[kind.collection]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.collection)
def test_unknown_ids_answer_404_and_write_nothing(client: TestClient, kind: Kind) -> None:
    woman(client)
    before = counts(client)
    unknown_owner = f"/api/{kind.owner}/00000000-0000-4000-8000-000000000000/{kind.collection}"
    for response in (
        client.post(unknown_owner, json=kind.create),
        client.get(unknown_owner),
        client.get(f"/api/{kind.collection}/424242"),
        client.patch(f"/api/{kind.collection}/424242", params=WHY, json=kind.update),
        client.delete(f"/api/{kind.collection}/424242", params=WHY),
        client.get(f"/api/{kind.collection}/99999999999999999999"),
        client.get(f"/api/{kind.owner}/not%20an%20id/{kind.collection}"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["detail"].startswith("no ")
    assert counts(client) == before


def test_history_without_an_active_pregnancy_is_stored_with_no_assessment(
    client: TestClient,
) -> None:
    patient_id = patient(client)["id"]
    created = ok(
        client.post(
            f"/api/patients/{patient_id}/maternal-conditions", json={"condition": "uterine-anomaly"}
        ),
        201,
    )
    assert created["assessment"] is None
    assert counts(client)["assessments"] == 0


def test_a_maternal_condition_is_recorded_once(client: TestClient) -> None:
    patient_id, _ = woman(client)
    path = f"/api/patients/{patient_id}/maternal-conditions"
    first = ok(client.post(path, json={"condition": "uterine-anomaly"}), 201)
    other = ok(client.post(path, json={"condition": "intrauterine-adhesions"}), 201)
    before = counts(client)
    again = client.post(path, json={"condition": "uterine-anomaly"})
    assert again.status_code == 409
    assert "uterine-anomaly" in again.json()["detail"]
    renamed = client.patch(
        f"/api/maternal-conditions/{other['id']}", params=WHY, json={"condition": "uterine-anomaly"}
    )
    assert renamed.status_code == 409
    assert counts(client) == before
    assert ok(client.get(f"/api/maternal-conditions/{first['id']}"))["condition"] == (
        "uterine-anomaly"
    )


def test_records_are_listed_by_date(client: TestClient) -> None:
    _, pregnancy_id = woman(client)
    path = f"/api/pregnancies/{pregnancy_id}/cervical-lengths"
    for day, mm in ((TODAY, 30), (TODAY - dt.timedelta(days=14), 35), (YESTERDAY, 31)):
        ok(client.post(path, json={"measured_on": day.isoformat(), "length_mm": mm}), 201)
    assert [r["length_mm"] for r in ok(client.get(path))] == [35, 31, 30]


def test_a_deleted_record_no_longer_counts(client: TestClient) -> None:
    _, pregnancy_id = woman(client)
    report = ok(
        client.post(
            f"/api/pregnancies/{pregnancy_id}/symptom-reports",
            json={"reported_on": TODAY.isoformat(), "present": ["fluid-leak"]},
        ),
        201,
    )
    assert report["assessment"]["urgent"] is True
    assert client.delete(f"/api/symptom-reports/{report['id']}", params=WHY).status_code == 204
    item = ok(client.get("/api/worklist"))["items"][0]
    assert item["urgent"] is False
