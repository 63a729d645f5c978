"""`POST /fhir/Patient/$match` (FHIR R4): the women a Patient may be, each with a score and a
match grade, among those the caller may see (docs/fhir-api.md, "Patient/$match")."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import Engine

from cervixwatch.knowledge import codes as c
from cervixwatch.store.models import Role
from tests import fhir_builders as fb
from tests.r4_schema import assert_r4
from tests.web.accounts import bearer, make_user
from tests.web.fhir_client import HEADERS, emptied, import_ok, issue, shared_app

HOSPITAL_A = "urn:oid:1.2.826.0.1.1"
HOSPITAL_B = "urn:oid:1.2.826.0.1.2"
_NUMBERS = itertools.count(1)


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[TestClient]:
    with shared_app(engine) as client:
        yield client


@pytest.fixture
def client(shared: TestClient, engine: Engine) -> Iterator[TestClient]:
    with emptied(engine, shared) as client:
        yield client


def _patient(*identifiers: dict[str, str], **fields: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", **fields}
    if identifiers:
        resource["identifier"] = list(identifiers)
    return resource


def _woman(client: TestClient, patient: dict[str, Any]) -> str:
    """Store a woman: her Patient (an id of its own), a due date and a length."""
    rid = f"w{next(_NUMBERS)}"
    records = [fb.edd(), fb.cervical_length(25)]
    for record in records:
        record["subject"] = fb.subject(rid)
    return import_ok(client, fb.bundle({**patient, "id": rid}, *records, with_patient=False))


def _match(
    client: TestClient, patient: dict[str, Any], *more: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    body = {
        "resourceType": "Parameters",
        "parameter": [{"name": "resource", "resource": patient}, *more],
    }
    headers = HEADERS | (bearer(token) if token else {})
    response = client.post("/fhir/Patient/$match", content=orjson.dumps(body), headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    Bundle.model_validate(answer)  # valid R4(B)
    assert_r4(answer)
    assert answer["type"] == "searchset"
    return answer


def _graded(answer: dict[str, Any]) -> list[tuple[str, float, str]]:
    """(id, score, grade) of each candidate, in the order answered."""
    out = []
    for entry in answer.get("entry", []):
        search = entry["search"]
        assert search["mode"] == "match"
        [grade] = [
            x["valueCode"] for x in search["extension"] if x["url"] == c.MATCH_GRADE_EXTENSION
        ]
        out.append((entry["resource"]["id"], search["score"], grade))
    return out


ALPHA = _patient(
    {"system": HOSPITAL_A, "value": "MRN1"},
    name=[{"use": "official", "family": "Alpha", "given": ["Ada"]}],
    birthDate="1990-01-01",
)


def test_an_identifier_is_a_certain_match(client: TestClient) -> None:
    alpha = _woman(client, ALPHA)
    answer = _match(client, _patient({"system": HOSPITAL_A, "value": "MRN1"}))
    assert _graded(answer) == [(alpha, 1.0, "certain")]
    assert answer["total"] == 1
    assert answer["entry"][0]["resource"]["identifier"][0]["system"] == HOSPITAL_A
    assert answer["entry"][0]["fullUrl"].endswith(f"/fhir/Patient/{alpha}")
    # The same value under another system is no one.
    assert _graded(_match(client, _patient({"system": HOSPITAL_B, "value": "MRN1"}))) == []


def test_names_and_birth_date_are_probable_or_possible(client: TestClient) -> None:
    alpha = _woman(client, ALPHA)
    named = _patient(name=[{"family": "ALPHA", "given": ["ada"]}], birthDate="1990-01-01")
    assert _graded(_match(client, named)) == [(alpha, 0.8, "probable")]
    other_given = _patient(name=[{"family": "Alpha", "given": ["Bea"]}], birthDate="1990-01-01")
    assert _graded(_match(client, other_given)) == [(alpha, 0.5, "possible")]
    another_day = _patient(name=[{"family": "Alpha", "given": ["Ada"]}], birthDate="1990-01-02")
    assert _graded(_match(client, another_day)) == []


def test_a_contradicted_identifier_is_only_possible(client: TestClient) -> None:
    alpha = _woman(client, ALPHA)
    contradicted = _patient({"system": HOSPITAL_A, "value": "MRN1"}, birthDate="1985-05-05")
    assert _graded(_match(client, contradicted)) == [(alpha, 0.5, "possible")]


def test_the_best_first_only_certain_ones_and_a_count(client: TestClient) -> None:
    alpha = _woman(client, ALPHA)
    twin = _woman(
        client,
        _patient(
            {"system": HOSPITAL_B, "value": "B7"},
            name=[{"family": "Alpha", "given": ["Ada"]}],
            birthDate="1990-01-01",
        ),
    )
    sent = _patient(
        {"system": HOSPITAL_A, "value": "MRN1"},
        name=[{"family": "Alpha", "given": ["Ada"]}],
        birthDate="1990-01-01",
    )
    assert _graded(_match(client, sent)) == [(alpha, 1.0, "certain"), (twin, 0.8, "probable")]
    only = {"name": "onlyCertainMatches", "valueBoolean": True}
    assert _graded(_match(client, sent, only)) == [(alpha, 1.0, "certain")]
    one = {"name": "count", "valueInteger": 1}
    assert [m[0] for m in _graded(_match(client, sent, one))] == [alpha]


def test_only_the_women_the_caller_may_see_are_candidates(client: TestClient) -> None:
    _woman(client, ALPHA)
    _, stranger = make_user(client, Role.CLINICIAN, teams=("Another team",))
    answer = _match(client, _patient({"system": HOSPITAL_A, "value": "MRN1"}), token=stranger)
    assert answer["total"] == 0
    assert "entry" not in answer  # an empty searchset has no entry array (FHIR JSON)


def test_what_is_not_a_match_request_is_refused(client: TestClient) -> None:
    def post(body: object) -> Any:
        return client.post("/fhir/Patient/$match", content=orjson.dumps(body), headers=HEADERS)

    assert issue(post({"resourceType": "Bundle"}), 400)["expression"] == ["resourceType"]
    assert (
        "required"
        in issue(post({"resourceType": "Parameters", "parameter": []}), 400)["diagnostics"]
    )
    bad_count = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "resource", "resource": ALPHA},
            {"name": "count", "valueInteger": 0},
        ],
    }
    assert "valueInteger" in issue(post(bad_count), 400)["diagnostics"]
    bad_gender = {
        "resourceType": "Parameters",
        "parameter": [{"name": "resource", "resource": {**ALPHA, "gender": "woman"}}],
    }
    assert "gender" in issue(post(bad_gender), 400)["diagnostics"]
    got = client.get("/fhir/Patient/$match", headers=HEADERS)
    assert issue(got, 405)["code"] == "not-supported"
    # A Patient sent alone is matched as the resource parameter.
    alpha = _woman(client, ALPHA)
    alone = post(_patient({"system": HOSPITAL_A, "value": "MRN1"}))
    assert alone.status_code == 200, alone.text
    assert [e["resource"]["id"] for e in alone.json()["entry"]] == [alpha]
