"""Ending a pregnancy with its birth (issue 13, part 2), on SQLite and PostgreSQL: a
spontaneous birth at 33+2 ends it and becomes a previous pregnancy of hers at 33+2 (233
days), which her next pregnancy's assessment reads as a spontaneous preterm birth; a day
before the pregnancy began or in the future is refused naming ended_on, nothing stored; an
ended pregnancy cannot be ended again."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from tests.web.api_builders import counts, edd_for, ok, pregnancy, woman
from tests.web.conftest import TODAY


def test_a_birth_at_33_2_becomes_her_history(client: TestClient) -> None:
    patient_id, pregnancy_id = woman(client, ga_today="33+4")
    url = f"/api/pregnancies/{pregnancy_id}/close"
    before = counts(client)
    early = (edd_for("33+4") - dt.timedelta(days=281)).isoformat()
    refused = client.post(url, json={"ended_on": early, "outcome": "live-birth"})
    assert refused.status_code == 422, refused.text
    assert "ended_on" in refused.text
    assert "outside this pregnancy" in refused.text
    future = (TODAY + dt.timedelta(days=1)).isoformat()
    assert client.post(url, json={"ended_on": future, "outcome": "live-birth"}).status_code == 422
    assert counts(client) == before

    birth_day = TODAY - dt.timedelta(days=2)  # 33+2
    ended = ok(
        client.post(
            url,
            json={
                "ended_on": birth_day.isoformat(),
                "outcome": "live-birth",
                "onset": "spontaneous-labour",
            },
        )
    )
    assert ended["status"] == "ended"
    assert ended["ended_on"] == birth_day.isoformat()
    history = ok(client.get(f"/api/patients/{patient_id}/prior-pregnancies"))
    assert [(h["outcome"], h["gestation_days"], h["onset"]) for h in history] == [
        ("live-birth", 33 * 7 + 2, "spontaneous-labour")
    ]
    again = client.post(url, json={"ended_on": birth_day.isoformat(), "outcome": "live-birth"})
    assert again.status_code == 409, again.text

    # Her next pregnancy: the birth at 33+2 is a spontaneous preterm birth in her history.
    nxt = pregnancy(client, patient_id, "14+0")
    assessment = ok(client.get(f"/api/pregnancies/{nxt['id']}/assessment"))
    assert assessment["history"] == "1 previous pregnancy: sPTB 33+2 (2026, spontaneous labour)"
