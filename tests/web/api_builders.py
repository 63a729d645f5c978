"""Small helpers for the JSON API tests: register a woman, start her pregnancy at a given
gestational age today, record things, and count every table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from cervixwatch.app.reassessing import Written, write_records
from cervixwatch.clinical.gestation import GestationalAge
from cervixwatch.store import PatientFields
from tests.builders import Woman
from tests.builders import woman as records_of
from tests.store.tables import row_counts
from tests.web.accounts import under_team
from tests.web.conftest import TODAY


def edd_for(ga_today: str) -> dt.date:
    """The EDD of a pregnancy that is at `ga_today` ("19+0") on TODAY."""
    return TODAY + dt.timedelta(days=280 - GestationalAge.parse(ga_today).total_days)


def day_at(ga_text: str, ga_today: str) -> dt.date:
    """The day a pregnancy at `ga_today` on TODAY was (or will be) at `ga_text`."""
    return edd_for(ga_today) - dt.timedelta(days=280 - GestationalAge.parse(ga_text).total_days)


def at(ga_today: str) -> Woman:
    """Hand-made records (tests/builders.py) of a woman at `ga_today` on TODAY: her dates of
    this pregnancy are written as gestational ages, `.with_length(22, at="18+0")`."""
    return records_of(ga_today, edd=edd_for(ga_today))


def seed(
    client: TestClient, hospital_number: str, her: Woman, family_name: str | None = None
) -> Written:
    """Store a woman's records in one transaction, as an import would: quicker than one
    request per record where the test is not about writing them."""
    app = client.app
    written = write_records(
        app.state.sessions,  # type: ignore[attr-defined]
        PatientFields(hospital_number, family_name=family_name),
        her.records,
        as_of=TODAY,
        profiles=app.state.profiles,  # type: ignore[attr-defined]
    )
    under_team(client, written.patient_id)
    return written


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def patient(client: TestClient, hospital_number: str = "H1", **fields: Any) -> dict[str, Any]:
    body = {"hospital_number": hospital_number, **fields}
    created: dict[str, Any] = ok(client.post("/api/patients", json=body), 201)
    return created


def pregnancy(
    client: TestClient, patient_id: str, ga_today: str = "19+0", fetuses: int | None = 1
) -> dict[str, Any]:
    body = {"edd": edd_for(ga_today).isoformat(), "fetuses": fetuses}
    created: dict[str, Any] = ok(
        client.post(f"/api/patients/{patient_id}/pregnancies", json=body), 201
    )
    return created


def woman(
    client: TestClient, hospital_number: str = "H1", ga_today: str = "19+0", **fields: Any
) -> tuple[str, str]:
    """A registered woman with an active pregnancy at `ga_today`: (patient id, pregnancy id)."""
    registered = patient(client, hospital_number, **fields)
    return registered["id"], pregnancy(client, registered["id"], ga_today)["id"]


def prior_sptb(client: TestClient, patient_id: str, at_days: int = 210) -> dict[str, Any]:
    """A previous spontaneous preterm live birth at `at_days` (30+0 by default)."""
    body = {
        "ended": "2022",
        "outcome": "live-birth",
        "gestation_days": at_days,
        "onset": "spontaneous-labour",
    }
    created: dict[str, Any] = ok(
        client.post(f"/api/patients/{patient_id}/prior-pregnancies", json=body), 201
    )
    return created


def scan(client: TestClient, pregnancy_id: str, mm: float, on: dt.date) -> dict[str, Any]:
    body = {"measured_on": on.isoformat(), "length_mm": mm}
    created: dict[str, Any] = ok(
        client.post(f"/api/pregnancies/{pregnancy_id}/cervical-lengths", json=body), 201
    )
    return created


def counts(client: TestClient) -> dict[str, int]:
    """Rows in every table of the app's database."""
    return row_counts(client.app.state.sessions)  # type: ignore[attr-defined]
