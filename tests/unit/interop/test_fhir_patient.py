"""Reading who a Patient is: identifiers with their systems, uses and types; names with their
uses; gender and birth date; errors naming the field."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cervixwatch.clinical.records import PartialDate
from cervixwatch.interop.fhir_patient import (
    Identifier,
    PatientIdentity,
    identifier_json,
    read_patient,
)
from cervixwatch.interop.fhir_values import BundleError, Where
from cervixwatch.knowledge import codes as c

MR = {"coding": [{"system": c.IDENTIFIER_TYPE, "code": "MR"}], "text": "Hospital number"}


def _read(**patient: object) -> PatientIdentity:
    resource = {"resourceType": "Patient", **patient}
    return read_patient(resource, Where(resource, 0))


def test_identifiers_keep_system_use_and_type_and_are_read_once() -> None:
    sent: list[dict[str, Any]] = [
        {"use": "usual", "type": MR, "system": "urn:h", "value": " H1 "},
        {"system": "urn:h", "value": "H1"},  # the same again
        {"value": "LOCAL"},  # no system
        {"system": "urn:h"},  # no value: identifies no one
    ]
    identity = _read(id="p1", identifier=sent)
    assert identity.resource_id == "p1"
    assert identity.identifiers == (
        Identifier("H1", "urn:h", "usual", c.IDENTIFIER_TYPE, "MR", "Hospital number"),
        Identifier("LOCAL"),
    )
    assert identity.identifiers[0].is_medical_record_number
    assert identifier_json(identity.identifiers[0]) == {**sent[0], "value": "H1"}
    assert identifier_json(identity.identifiers[1]) == {"value": "LOCAL"}


def test_names_keep_their_uses_and_birth_dates_their_precision() -> None:
    identity = _read(
        name=[
            {"use": "official", "family": " Okafor ", "given": ["Ada", " ", "Grace"]},
            {"use": "old"},  # nothing but a use: no name
            {"text": "Ada O.", "period": {"start": "2020"}},
        ],
        gender="female",
        birthDate="1990-05",
    )
    assert identity.names == (
        {"use": "official", "family": "Okafor", "given": ["Ada", "Grace"]},
        {"text": "Ada O."},
    )
    assert identity.gender == "female"
    assert identity.birth_date == PartialDate(1990, 5)


@pytest.mark.parametrize(
    ("patient", "field"),
    [
        ({"identifier": {"value": "x"}}, "identifier"),
        ({"identifier": [{"value": 7}]}, "identifier[0].value"),
        ({"identifier": [{"value": "x", "use": "main"}]}, "identifier[0].use"),
        ({"identifier": [{"value": "x" * 256}]}, "identifier[0].value"),
        ({"identifier": [{"value": "x", "type": "MR"}]}, "identifier[0].type"),
        ({"name": [{"family": ["Okafor"]}]}, "name[0].family"),
        ({"name": [{"given": "Ada"}]}, "name[0].given"),
        ({"name": [{"use": "formal"}]}, "name[0].use"),
        ({"gender": "woman"}, "gender"),
        ({"birthDate": "01/05/1990"}, "birthDate"),
    ],
)
def test_what_cannot_be_read_is_named(patient: dict[str, object], field: str) -> None:
    with pytest.raises(BundleError, match="^" + re.escape(f"Patient (entry 0): {field}: ")):
        _read(**patient)
