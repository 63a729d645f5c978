"""The R4 JSON schema check the tests rely on (tests/r4_schema.py) finds what breaks R4 at
every depth: in a resource, in a Bundle's entries, in a resource contained in one of them."""

from __future__ import annotations

import pytest

from tests.r4_schema import r4_errors


def test_errors_are_found_in_entries_and_contained_resources_with_their_paths() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "done",
                    "code": {"text": "cervical length"},
                    "contained": [{"resourceType": "Patient", "gender": "f"}],
                }
            },
            {"resource": {"resourceType": "Patient", "gender": "female"}},
        ],
    }
    errors = r4_errors(bundle)
    assert [e.split(":")[0] for e in errors] == [
        "entry.0.resource.status",
        "entry.0.resource.contained.0.gender",
    ]
    assert r4_errors({"resourceType": "Patient", "gender": "female"}) == []
    assert r4_errors({"resourceType": "Bundle", "type": "sometimes"})  # its own elements too


def test_an_unknown_resource_type_anywhere_is_refused() -> None:
    with pytest.raises(AssertionError, match="'Nonsense' is not an R4 resource type"):
        r4_errors(
            {
                "resourceType": "Bundle",
                "type": "batch",
                "entry": [{"resource": {"resourceType": "Nonsense"}}],
            }
        )
