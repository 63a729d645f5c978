"""Identifiers and names that print alike are alike (issue 12, F9): NFC, and no invisible or
direction-changing character, by the same rule on the JSON API and the FHIR import. Two
women once both showed as "DEMO000001" because one number held a zero-width space."""

from __future__ import annotations

import unicodedata

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.clinical.identity_text import identifier_text, name_text
from tests import fhir_builders as fb
from tests.web.fhir_client import counts, issue, post_bundle

HIDDEN = [
    "\u200b",  # zero-width space
    "\u2060",  # word joiner
    "\ufeff",  # zero-width no-break space (BOM)
    "\u00ad",  # soft hyphen
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u200f",  # right-to-left mark
    "\u061c",  # Arabic letter mark
]


@pytest.mark.parametrize("hidden", HIDDEN)
def test_an_identifier_with_a_hidden_character_is_refused(hidden: str) -> None:
    with pytest.raises(ValueError, match=f"U\\+{ord(hidden):04X}"):
        identifier_text(f"DEMO{hidden}000001")


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_name_with_a_hidden_character_is_refused(hidden: str) -> None:
    with pytest.raises(ValueError, match="invisible or direction-changing"):
        name_text(f"Smi{hidden}th")


def test_the_joiners_that_spell_a_name_are_kept_in_names_not_in_identifiers() -> None:
    persian = "\u0645\u06cc\u200c\u0631\u0632\u0627"  # a zero-width non-joiner inside
    assert name_text(persian) == persian
    with pytest.raises(ValueError, match="U\\+200C"):
        identifier_text(f"A{chr(0x200C)}1")


def test_text_is_stored_composed() -> None:
    decomposed = "Rene\u0301e"
    assert name_text(decomposed) == "Ren\u00e9e" == unicodedata.normalize("NFC", decomposed)
    assert identifier_text("H\u0301-1") == unicodedata.normalize("NFC", "H\u0301-1")


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
