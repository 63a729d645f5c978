"""SMART scopes (App Launch 2.x, "Scopes and Launch Context"): what is granted and what a
FHIR request needs."""

from __future__ import annotations

import pytest

from cervixwatch.access.smart_scopes import (
    ClinicalScope,
    GrantedScopes,
    Needed,
    contexts_for,
    needed_for,
    parse_scope,
)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("patient/Observation.rs", ClinicalScope("patient", "Observation", "rs")),
        ("user/*.cruds", ClinicalScope("user", "*", "cruds")),
        ("system/Patient.r", ClinicalScope("system", "Patient", "r")),
        # SMART v1, read as its v2 equivalent.
        ("patient/*.read", ClinicalScope("patient", "*", "rs")),
        ("user/Observation.write", ClinicalScope("user", "Observation", "cud")),
        ("patient/*.*", ClinicalScope("patient", "*", "cruds")),
    ],
)
def test_clinical_scopes_are_read(text: str, parsed: ClinicalScope) -> None:
    assert parse_scope(text) == parsed


@pytest.mark.parametrize(
    "text",
    [
        "patient/Observation.sr",  # v2 letters out of order
        "patient/Observation.rr",
        "patient/Observation.x",
        "patient/Observation.rs?category=laboratory",  # granular: not granted whole
        "practitioner/*.rs",
        "patient/observation.rs",
        "openid",
        "launch/patient",
        "",
    ],
)
def test_other_scopes_are_not_clinical_scopes(text: str) -> None:
    assert parse_scope(text) is None


@pytest.mark.parametrize(
    ("method", "path", "needs"),
    [
        ("GET", "/Observation/12", [Needed("Observation", "r")]),
        ("GET", "/Observation/12/_history/2", [Needed("Observation", "r")]),
        ("GET", "/Observation", [Needed("Observation", "s")]),
        ("HEAD", "/Observation", [Needed("Observation", "s")]),
        ("POST", "/Observation/_search", [Needed("Observation", "s")]),
        ("POST", "/Patient/$match", [Needed("Patient", "s")]),
        ("POST", "/Observation", [Needed("Observation", "c")]),
        ("PUT", "/Observation/12", [Needed("Observation", "u")]),
        ("PUT", "/Observation", [Needed("Observation", "u"), Needed("Observation", "c")]),
        ("DELETE", "/Observation/12", [Needed("Observation", "d")]),
        ("POST", "", [Needed("*", "c"), Needed("*", "u")]),
        ("POST", "/", [Needed("*", "c"), Needed("*", "u")]),
        ("GET", "/Patient/p1/$everything", [Needed("*", "r"), Needed("*", "s")]),
        ("GET", "/$export", [Needed("*", "r"), Needed("*", "s")]),
        ("GET", "/$export-status/job", [Needed("*", "r"), Needed("*", "s")]),
    ],
)
def test_each_fhir_interaction_needs_its_permission(
    method: str, path: str, needs: list[Needed]
) -> None:
    assert needed_for(method, path) == needs


def test_an_unknown_path_needs_everything() -> None:
    assert {n.permission for n in needed_for("PATCH", "/Observation/1")} == set("cruds")
    assert {n.resource_type for n in needed_for("GET", "/weird/1")} == {"*"}


def _granted(*words: str) -> GrantedScopes:
    return GrantedScopes.of(words)


def test_a_request_goes_ahead_in_the_widest_context_that_allows_it_all() -> None:
    read_one = needed_for("GET", "/Observation/1")
    assert contexts_for(_granted("patient/*.rs"), read_one) == {"patient"}
    assert contexts_for(_granted("patient/*.rs", "user/Observation.r"), read_one) == {
        "patient",
        "user",
    }
    assert contexts_for(_granted("patient/Patient.rs"), read_one) == set()
    # A Bundle needs create and update on every type: one scope on one type is not enough.
    bundle = needed_for("POST", "")
    assert contexts_for(_granted("user/Observation.cruds"), bundle) == set()
    assert contexts_for(_granted("user/*.cu"), bundle) == {"user"}
    assert contexts_for(_granted("user/*.c", "user/*.u"), bundle) == {"user"}
    assert contexts_for(_granted("user/*.c", "patient/*.u"), bundle) == set()
    assert contexts_for(_granted(), read_one) == set()
