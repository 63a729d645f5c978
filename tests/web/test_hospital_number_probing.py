"""Issue 12, low finding: "whether another team's woman exists can be learned by hospital
number, and one 409 carries her internal id".

A clinician of another team asks, by hospital number, about a woman stored under a team
not hers, and about a number no woman has: where the request only reads (a search, `$match`,
a read by identifier), the two answers are the same. Where a registration must refuse a
number already in use (the JSON API's registration and correction), the refusal says only
that the number is taken: never her internal id, name or team. The residual disclosure (a
number is in use) is documented in docs/security.md and every such refusal is audited.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

import tests.fhir_builders as fb
from cervixwatch.knowledge.codes import DEFAULT_HOSPITAL_NUMBER_SYSTEM as SYSTEM
from cervixwatch.store.models import Role
from tests.web.accounts import bearer, make_user
from tests.web.test_audit_log import only_entry

FHIR_JSON = {"Accept": "application/fhir+json", "Content-Type": "application/fhir+json"}
TAKEN = "H-PROBE-0001"
FREE = "H-PROBE-0002"


def _clinician(client: TestClient, team: str) -> dict[str, str]:
    _, token = make_user(client, Role.CLINICIAN, teams=(team,))
    return bearer(token)


@pytest.fixture
def teams(client: TestClient) -> tuple[dict[str, str], dict[str, str], str]:
    """(her team's clinician, another team's clinician, her internal id): a woman with the
    number TAKEN stored under "Team A"."""
    hers, other = _clinician(client, "Team A"), _clinician(client, "Team B")
    made = client.post(
        "/api/patients",
        json={"hospital_number": TAKEN, "family_name": "Quillfeather", "given_name": "Ada"},
        headers=hers,
    )
    assert made.status_code == 201, made.text
    return hers, other, made.json()["id"]


def _same(one: Response, two: Response) -> tuple[Any, Any]:
    """Both answers with what must differ between them (the number asked for, ids and times of
    the answer itself) set aside."""

    def plain(answer: Response) -> Any:
        text = answer.text.replace(TAKEN, "N").replace(FREE, "N")
        text = re.sub(r'"(id|lastUpdated|timestamp)":"[^"]*"', r'"\1":"x"', text)
        return answer.status_code, orjson.loads(text) if text else None

    return plain(one), plain(two)


def _conditional_reference() -> dict[str, Any]:
    """A transaction whose Observation names its woman by a conditional reference."""
    observation = {**fb.cervical_length(25)}
    observation.pop("id", None)
    observation["subject"] = {"reference": f"Patient?identifier={SYSTEM}|{{n}}"}
    entry = {"resource": observation, "request": {"method": "POST", "url": "Observation"}}
    return {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}


READS = [
    pytest.param("GET", "/api/patients?search={n}", None, id="api-search"),
    pytest.param("GET", "/fhir/Patient?identifier={n}", None, id="fhir-identifier"),
    pytest.param("GET", "/fhir/Patient?identifier=" + SYSTEM + "|{n}", None, id="fhir-system"),
    pytest.param("GET", "/fhir/Observation?patient.identifier={n}", None, id="fhir-chained"),
    pytest.param(
        "POST",
        "/fhir/Patient/$match",
        {
            "resourceType": "Parameters",
            "parameter": [
                {
                    "name": "resource",
                    "resource": {
                        "resourceType": "Patient",
                        "identifier": [{"system": SYSTEM, "value": "{n}"}],
                    },
                }
            ],
        },
        id="fhir-match",
    ),
    pytest.param("POST", "/fhir", _conditional_reference(), id="conditional-reference"),
]


@pytest.mark.parametrize(("method", "path", "body"), READS)
def test_a_read_by_number_answers_the_same_for_another_teams_woman_and_no_woman(
    client: TestClient,
    teams: tuple[dict[str, str], dict[str, str], str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    _, other, her_id = teams

    def ask(number: str) -> Response:
        content = None if body is None else orjson.dumps(body).replace(b"{n}", number.encode())
        return client.request(
            method, path.format(n=number), content=content, headers={**other, **FHIR_JSON}
        )

    taken, free = ask(TAKEN), ask(FREE)
    assert her_id not in taken.text
    assert "Quillfeather" not in taken.text
    mine, nobody = _same(taken, free)
    assert mine == nobody


def test_registering_a_taken_number_says_only_that_it_is_taken(
    client: TestClient, teams: tuple[dict[str, str], dict[str, str], str]
) -> None:
    _, other, her_id = teams
    refused = client.post(
        "/api/patients", json={"hospital_number": TAKEN, "family_name": "Other"}, headers=other
    )
    assert refused.status_code == 409
    assert her_id not in refused.text
    assert "Team A" not in refused.text
    assert "Quillfeather" not in refused.text
    assert "already registered" in refused.text
    # Audited: who tried which number's registration is on record (the number is not: the
    # audit keeps no request values), not whose it is.
    entry = only_entry(client, refused)
    assert (entry.action, entry.status, entry.patient_id) == ("create", 409, None)

    # Correcting one's own woman's number to the taken one: the same refusal.
    mine = client.post("/api/patients", json={"hospital_number": FREE}, headers=other)
    assert mine.status_code == 201, mine.text
    changed = client.patch(
        f"/api/patients/{mine.json()['id']}", json={"hospital_number": TAKEN}, headers=other
    )
    assert changed.status_code == 409
    assert her_id not in changed.text


def test_a_fhir_write_of_a_taken_number_says_only_that_it_is_not_her_teams(
    client: TestClient, teams: tuple[dict[str, str], dict[str, str], str]
) -> None:
    """The FHIR facade's writes (a create, a conditional create) of a Patient with another
    team's woman's number are refused (403, `OutOfScope`), naming neither her nor her team."""
    _, other, her_id = teams
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": SYSTEM, "value": TAKEN}],
        "name": [{"family": "Other"}],
    }
    for extra in ({}, {"If-None-Exist": f"identifier={SYSTEM}|{TAKEN}"}):
        refused = client.post(
            "/fhir/Patient", content=orjson.dumps(patient), headers={**other, **FHIR_JSON, **extra}
        )
        assert refused.status_code == 403, refused.text
        assert her_id not in refused.text
        assert "Quillfeather" not in refused.text
        assert "Team A" not in refused.text
