"""Identifiers and names that print alike are alike (issue 12, F9): NFC, and no invisible or
direction-changing character, by the same rule on the JSON API and the FHIR import. Two
women once both showed as "DEMO000001" because one number held a zero-width space."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests import fhir_builders as fb
from tests.web.fhir_client import counts, issue, post_bundle


def test_the_api_refuses_a_hidden_character_in_a_hospital_number(
    client: TestClient, engine: Engine
) -> None:
    before = counts(engine)
    answer = client.post("/api/patients", json={"hospital_number": "DEMO\u200b000001"})
    assert answer.status_code == 422
    assert "U+200B" in answer.text
    assert counts(engine) == before


def test_the_fhir_import_refuses_a_hidden_character_in_a_hospital_number(
    client: TestClient, engine: Engine
) -> None:
    patient = fb.patient()
    patient["identifier"] = [{"system": "urn:oid:1.2.826.0.1.1", "value": "DEMO\u200b000001"}]
    before = counts(engine)
    refused = issue(post_bundle(client, fb.bundle(patient, fb.edd(), with_patient=False)), 422)
    assert "U+200B" in refused["diagnostics"]
    assert "identifier[0].value" in " ".join(refused.get("expression", [])) + refused["diagnostics"]
    assert counts(engine) == before


def test_the_fhir_import_refuses_a_bidi_override_in_a_name(
    client: TestClient, engine: Engine
) -> None:
    patient = fb.patient()
    patient["name"] = [{"family": "Smith\u202e", "given": ["Ann"]}]
    before = counts(engine)
    refused = issue(post_bundle(client, fb.bundle(patient, fb.edd(), with_patient=False)), 422)
    assert "U+202E" in refused["diagnostics"]
    assert counts(engine) == before


def test_a_composed_and_a_decomposed_number_are_one_woman(client: TestClient) -> None:
    first = fb.patient()
    first["identifier"] = [{"system": "urn:oid:1.2.826.0.1.1", "value": "R\u00c9-1"}]
    again = fb.patient("other-id")
    again["identifier"] = [{"system": "urn:oid:1.2.826.0.1.1", "value": "RE\u0301-1"}]
    second_edd = fb.edd(rid="edd-2")
    second_edd["subject"] = fb.subject("other-id")
    one = post_bundle(client, fb.bundle(first, fb.edd(), with_patient=False))
    two = post_bundle(client, fb.bundle(again, second_edd, with_patient=False))
    assert one.status_code == two.status_code == 200, (one.text, two.text)
    where = [a.json()["entry"][0]["response"]["location"].split("/")[1] for a in (one, two)]
    assert where[0] == where[1]
