"""Dates outside 1900-2199 refused on every path in (issue 12, F8): an imported due date of
9999-12-31 once made every record form of the woman answer 500 for good, and 0001-01-01
crashed the import. The API and the FHIR reader apply the same rule (clinical.plausible)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests import fhir_builders as fb
from tests.web.fhir_client import counts, issue, post_bundle


@pytest.mark.parametrize("edd", ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01"])
def test_an_implausible_imported_due_date_is_refused_and_nothing_stored(
    client: TestClient, engine: Engine, edd: str
) -> None:
    before = counts(engine)
    refused = issue(post_bundle(client, fb.bundle(fb.edd(edd))), 422)
    assert "must be between 1900-01-01 and 2199-12-31" in refused["diagnostics"]
    assert edd in refused["diagnostics"]
    assert counts(engine) == before


def test_an_implausible_measurement_date_is_refused(client: TestClient, engine: Engine) -> None:
    before = counts(engine)
    length = fb.cervical_length(22, effective="0001-01-01")
    refused = issue(post_bundle(client, fb.bundle(fb.edd(), length)), 422)
    assert "effectiveDateTime" in refused["diagnostics"]
    assert counts(engine) == before


def test_the_edges_of_the_range_are_accepted(client: TestClient) -> None:
    patient = fb.patient()
    patient["birthDate"] = "1900-01-01"
    answer = post_bundle(client, fb.bundle(patient, fb.edd("2026-07-04"), with_patient=False))
    assert answer.status_code == 200, answer.text


def test_the_api_refuses_the_same_dates(client: TestClient) -> None:
    created = client.post("/api/patients", json={"hospital_number": "H-F8"})
    assert created.status_code == 201, created.text
    patient = created.json()["id"]
    answer = client.post(f"/api/patients/{patient}/pregnancies", json={"edd": "9999-12-31"})
    assert answer.status_code == 422
    assert "must be between 1900-01-01 and 2199-12-31" in answer.text
