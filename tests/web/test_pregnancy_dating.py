"""How a pregnancy's EDD was worked out (issue 13, part 2: "EDD with dating method"): recorded
through the JSON API and kept with the EDD it dates, and in FHIR as the EDD Observation's own
LOINC code (standards.md: 11779-6 from the last menstrual period, 11780-4 from the ovulation
date, 11781-2 from ultrasound; 11778-8 when the method is not known): read in, written out,
found by a search of its code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.knowledge import codes as c
from tests import fhir_builders as fb
from tests.web.api_builders import counts, edd_for, ok, patient
from tests.web.conftest import TODAY
from tests.web.fhir_client import HEADERS, emptied, everything, import_ok, resources, shared_app


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[TestClient]:
    with shared_app(engine) as client:
        yield client


@pytest.fixture
def client(shared: TestClient, engine: Engine) -> Iterator[TestClient]:
    with emptied(engine, shared) as client:
        yield client


def _edd_resource(client: TestClient, patient_id: str) -> dict[str, Any]:
    (edd,) = [
        r
        for r in resources(everything(client, patient_id), "Observation")
        if str(r["id"]).startswith("edd-")
    ]
    return edd


def test_the_dating_method_is_kept_with_its_edd_and_written_as_its_code(
    client: TestClient,
) -> None:
    her = patient(client, "H-DATED")
    created = ok(
        client.post(
            f"/api/patients/{her['id']}/pregnancies",
            json={"edd": edd_for("19+0").isoformat(), "dating_method": "ultrasound"},
        ),
        201,
    )
    assert created["dating_method"] == "ultrasound"
    edd = _edd_resource(client, her["id"])
    assert edd["code"] == {"coding": [{"system": c.LOINC, "code": "11781-2"}]}
    found = client.get(
        "/fhir/Observation", params={"code": f"{c.LOINC}|11781-2"}, headers=HEADERS
    ).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [edd["id"]]
    unspecified = client.get(
        "/fhir/Observation", params={"code": f"{c.LOINC}|11778-8"}, headers=HEADERS
    ).json()
    assert unspecified.get("entry", []) == []

    # Changing the method of a recorded EDD is an amendment; a new EDD sent without its method
    # leaves the method unknown, and is written with the EDD's own code.
    path = f"/api/pregnancies/{created['id']}"
    refused = client.patch(path, json={"dating_method": "last-menstrual-period"})
    assert refused.status_code == 422
    assert "amending the recorded dating method" in refused.json()["detail"][0]["msg"]
    redated = ok(
        client.patch(path, json={"edd": edd_for("20+0").isoformat(), "reason": "12-week scan"})
    )
    assert redated["dating_method"] is None
    assert _edd_resource(client, her["id"])["code"]["coding"][0]["code"] == "11778-8"


@pytest.mark.parametrize(
    ("code", "method"),
    [
        (c.EDD_FROM_LMP, "last-menstrual-period"),
        (c.EDD_FROM_OVULATION, "ovulation-date"),
        (c.EDD_FROM_ULTRASOUND, "ultrasound"),
        (c.EDD, None),
    ],
)
def test_an_imported_edd_brings_its_method(
    client: TestClient, code: c.Code, method: str | None
) -> None:
    due = edd_for("19+0").isoformat()
    sent = fb.observation(code, "2025-11-22", rid="edd", valueDateTime=due)
    patient_id = import_ok(client, fb.bundle(sent))
    (listed,) = ok(client.get(f"/api/patients/{patient_id}/pregnancies"))
    assert (listed["edd"], listed["dating_method"]) == (due, method)
    assert _edd_resource(client, patient_id)["code"]["coding"][0]["code"] == code[1]
    # The same EDD sent again without its method keeps the method recorded.
    stored = counts(client)
    plain = fb.observation(c.EDD, "2025-11-22", rid="edd", valueDateTime=due)
    import_ok(client, fb.bundle(plain))
    assert counts(client) == stored
    (again,) = ok(client.get(f"/api/patients/{patient_id}/pregnancies"))
    assert again["dating_method"] == method


def test_the_latest_edd_wins_with_its_own_method() -> None:
    earlier = fb.observation(
        c.EDD_FROM_LMP, "2025-11-01", rid="by-lmp", valueDateTime=edd_for("19+0").isoformat()
    )
    later = fb.observation(
        c.EDD_FROM_ULTRASOUND,
        "2025-11-22",
        rid="by-scan",
        valueDateTime=edd_for("18+5").isoformat(),
    )
    records = read_bundle(fb.dumps(fb.bundle(later, earlier)), as_of=TODAY)
    assert (records.edd, records.dating_method) == (edd_for("18+5"), "ultrasound")
