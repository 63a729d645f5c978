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
    # Its own birth is not its history: the ended pregnancy is read as it was, with none.
    own = ok(client.get(f"/api/pregnancies/{pregnancy_id}/assessment"))
    assert own["history"] == "no previous pregnancy or cervical history recorded"

    # Her next pregnancy: the birth at 33+2 is a spontaneous preterm birth in her history.
    nxt = pregnancy(client, patient_id, "14+0")
    assessment = ok(client.get(f"/api/pregnancies/{nxt['id']}/assessment"))
    assert assessment["history"] == "1 previous pregnancy: sPTB 33+2 (2026, spontaneous labour)"


def test_an_ended_pregnancy_s_history_is_what_ended_before_it(client: TestClient) -> None:
    """The history of an ended pregnancy is the pregnancies that ended before it began: not
    its own outcome, nor a later pregnancy's (both recorded as previous pregnancies of hers).
    An active pregnancy reads every previous pregnancy of hers."""
    patient_id, first = woman(client, ga_today="33+4")
    ok(
        client.post(
            f"/api/patients/{patient_id}/prior-pregnancies",
            json={"ended": "2019-05", "outcome": "live-birth", "gestation_days": 30 * 7},
        ),
        201,
    )
    born = TODAY - dt.timedelta(days=2)
    close = {"ended_on": born.isoformat(), "outcome": "live-birth", "onset": "spontaneous-labour"}
    ok(client.post(f"/api/pregnancies/{first}/close", json=close))
    first_history = ok(client.get(f"/api/pregnancies/{first}/assessment"))["history"]
    assert first_history.startswith("1 previous pregnancy:"), first_history
    assert "2019" in first_history
    assert "33+2" not in first_history
    second = pregnancy(client, patient_id, "14+0")["id"]
    second_history = ok(client.get(f"/api/pregnancies/{second}/assessment"))["history"]
    assert second_history.startswith("2 previous pregnancies:"), second_history
    assert "sPTB 33+2" in second_history
