"""Registering a woman with her NHS number through the JSON API (issue 13, part 2), on SQLite
and PostgreSQL: stored as an identifier of https://fhir.nhs.uk/Id/nhs-number (spaces
dropped); a wrong check digit is refused naming the field; the same NHS number under another
hospital number is the same woman (409), never a second one."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.api_builders import counts, ok


def test_nhs_number_checked_stored_and_never_twice(client: TestClient) -> None:
    her = ok(
        client.post("/api/patients", json={"hospital_number": "N1", "nhs_number": "943 476 5919"}),
        201,
    )
    identifiers = ok(client.get(f"/fhir/Patient/{her['id']}"))["identifier"]
    assert any(
        i["system"] == "https://fhir.nhs.uk/Id/nhs-number" and i["value"] == "9434765919"
        for i in identifiers
    )
    before = counts(client)
    wrong = client.post("/api/patients", json={"hospital_number": "N2", "nhs_number": "9434765918"})
    assert wrong.status_code == 422, wrong.text
    assert "nhs_number" in wrong.text
    assert "check digit" in wrong.text
    again = client.post("/api/patients", json={"hospital_number": "N3", "nhs_number": "9434765919"})
    assert again.status_code == 409, again.text
    assert her["id"] not in again.text  # says it is taken, not who has it (issue 12)
    assert counts(client) == before
