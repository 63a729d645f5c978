"""Patient identity through the FHIR facade (issue 11, part 1): a woman is known by (system,
value) pairs, never by a value alone; a Patient without identifiers by (source, id); a Patient
that contradicts the woman it names is refused and changes nothing; identifiers, gender and
names keep their systems and uses, in and out; POST entries that create answer 201."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.knowledge import codes as c
from cervixwatch.store.models import Role
from tests import fhir_builders as fb
from tests.web.accounts import TEAM, bearer, make_user
from tests.web.fhir_client import (
    FHIR_JSON,
    HEADERS,
    counts,
    emptied,
    everything,
    import_ok,
    imported,
    issue,
    post_bundle,
    resources,
    shared_app,
)

HOSPITAL_A = "urn:oid:1.2.826.0.1.1"
HOSPITAL_B = "urn:oid:1.2.826.0.1.2"
NHS = "https://fhir.nhs.uk/Id/nhs-number"
MR = {"coding": [{"system": c.IDENTIFIER_TYPE, "code": "MR"}], "text": "Hospital number"}


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[TestClient]:
    with shared_app(engine) as client:
        yield client


@pytest.fixture
def client(shared: TestClient, engine: Engine) -> Iterator[TestClient]:
    with emptied(engine, shared) as client:
        yield client


def _patient(
    *identifiers: dict[str, Any], family: str = "Alpha", birth: str = "1990-01-01", **more: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": list(identifiers),
        "name": [{"family": family, "given": ["Test"]}],
        "gender": "female",
        "birthDate": birth,
        **more,
    }


def _transaction(patient: dict[str, Any], length_mm: float = 30) -> dict[str, Any]:
    """A transaction of POST entries without ids, as EHRs send them: her Patient, a due date
    and a cervical length, each referring to her by her entry's urn:uuid."""
    pid = "urn:uuid:6a0c1f2e-0000-4000-8000-000000000001"
    edd = fb.edd("2026-07-04", "2025-11-22")
    length = fb.cervical_length(length_mm, "2026-02-10")  # 19+3, before the clock's today
    entries = [(pid, patient), *((f"urn:uuid:{i}", r) for i, r in enumerate((edd, length)))]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "transaction", "entry": []}
    for url, resource in entries:
        resource = copy.deepcopy(resource)
        resource.pop("id", None)
        if "subject" in resource:
            resource["subject"] = {"reference": pid}
        bundle["entry"].append(
            {
                "fullUrl": url,
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
        )
    return bundle


def _search(client: TestClient, **params: str) -> list[dict[str, Any]]:
    response = client.get("/fhir/Patient", params=params, headers=HEADERS)
    assert response.status_code == 200, response.text
    return resources(response.json())


def _read(client: TestClient, patient_id: str) -> dict[str, Any]:
    response = client.get(f"/fhir/Patient/{patient_id}", headers=HEADERS)
    assert response.status_code == 200, response.text
    patient: dict[str, Any] = response.json()
    return patient


def _as(client: TestClient, token: str, bundle: dict[str, Any]) -> Any:
    """POST a Bundle as another account (another source)."""
    return client.post("/fhir", content=orjson.dumps(bundle), headers=HEADERS | bearer(token))


# --- two women, one hospital-number value --------------------------------------------------------


def test_the_same_hospital_number_under_two_systems_is_two_women(
    client: TestClient, engine: Engine
) -> None:
    alpha = import_ok(client, _transaction(_patient({"system": HOSPITAL_A, "value": "MRN777"})))
    bravo = import_ok(
        client,
        _transaction(
            _patient({"system": HOSPITAL_B, "value": "MRN777"}, family="Bravo", birth="1985-05-05"),
            length_mm=18,
        ),
    )
    assert alpha != bravo
    assert counts(engine)["patients"] == 2
    # Neither overwrote the other, and their records stayed apart.
    assert _read(client, alpha)["name"][0]["family"] == "Alpha"
    assert _read(client, alpha)["birthDate"] == "1990-01-01"
    assert _read(client, bravo)["birthDate"] == "1985-05-05"
    for woman, mm in ((alpha, 30), (bravo, 18)):
        lengths = [
            r["valueQuantity"]["value"]
            for r in resources(everything(client, woman), "Observation")
            if r["code"]["coding"][0]["code"] == "11961-0"
        ]
        assert lengths == [mm]
    # A token search: a value alone matches under any system; system|value only that system.
    assert sorted(p["id"] for p in _search(client, identifier="MRN777")) == sorted([alpha, bravo])
    assert [p["id"] for p in _search(client, identifier=f"{HOSPITAL_A}|MRN777")] == [alpha]
    assert [p["id"] for p in _search(client, identifier=f"{HOSPITAL_B}|")] == [bravo]
    assert _search(client, identifier=f"{HOSPITAL_A}|MRN778") == []
    assert _search(client, identifier="|MRN777") == []  # none was sent without a system


def test_a_hospital_number_is_unique_within_its_system(client: TestClient, engine: Engine) -> None:
    first = import_ok(client, _transaction(_patient({"system": HOSPITAL_A, "value": "MRN1"})))
    again = import_ok(client, _transaction(_patient({"system": HOSPITAL_A, "value": "MRN1"})))
    assert again == first
    assert counts(engine)["patients"] == 1


# --- contradictions are refused, and change nothing ----------------------------------------------


def _refused(client: TestClient, engine: Engine, bundle: dict[str, Any]) -> dict[str, Any]:
    before = counts(engine)
    found = issue(post_bundle(client, bundle), 409)
    assert found["code"] == "conflict"
    assert "nothing was changed" in found["diagnostics"]
    assert counts(engine) == before
    return found


def test_a_patient_with_another_birth_date_is_refused_and_changes_nothing(
    client: TestClient, engine: Engine
) -> None:
    woman = import_ok(client, _transaction(_patient({"system": HOSPITAL_A, "value": "MRN777"})))
    stored = _read(client, woman)
    kept = everything(client, woman)
    other = _patient({"system": HOSPITAL_A, "value": "MRN777"}, family="Other", birth="1985-05-05")
    found = _refused(client, engine, _transaction(other, length_mm=12))
    assert found["expression"] == ["Bundle.entry[0].resource.birthDate"]
    assert f"identifier[0] ({HOSPITAL_A}|MRN777)" in found["diagnostics"]
    # It names what was sent, never what is stored of her.
    assert "1990" not in found["diagnostics"]
    assert "Alpha" not in found["diagnostics"]
    assert _read(client, woman) == stored
    assert everything(client, woman)["entry"] == kept["entry"]


def test_another_value_of_one_of_her_identifier_systems_is_refused(
    client: TestClient, engine: Engine
) -> None:
    import_ok(
        client,
        _transaction(
            _patient({"system": HOSPITAL_A, "value": "MRN777"}, {"system": NHS, "value": "111"})
        ),
    )
    # Her hospital number, but another NHS number: two women, or a wrong identifier.
    sent = _patient({"system": HOSPITAL_A, "value": "MRN777"}, {"system": NHS, "value": "222"})
    found = _refused(client, engine, _transaction(sent))
    assert found["expression"] == ["Bundle.entry[0].resource.identifier[1]"]
    assert f"system {NHS}" in found["diagnostics"]
    # A number she had before, marked old, contradicts nothing: it is added.
    sent["identifier"][1]["use"] = "old"
    import_ok(client, _transaction(sent))
    assert counts(engine)["patient_identifiers"] == 3


def test_a_patient_naming_two_stored_women_is_refused(client: TestClient, engine: Engine) -> None:
    import_ok(client, _transaction(_patient({"system": HOSPITAL_A, "value": "A1"})))
    import_ok(client, _transaction(_patient({"system": HOSPITAL_B, "value": "B1"})))
    both = _patient({"system": HOSPITAL_A, "value": "A1"}, {"system": HOSPITAL_B, "value": "B1"})
    found = _refused(client, engine, _transaction(both))
    assert "names one woman stored here and identifier[1]" in found["diagnostics"]


def test_a_name_change_is_kept_with_the_former_name_as_old(client: TestClient) -> None:
    first = _patient({"system": HOSPITAL_A, "value": "MRN5"}, birth="1990-06-15")
    woman = import_ok(client, _transaction(first))
    married = _patient(
        {"system": HOSPITAL_A, "value": "MRN5"}, family="Married", birth="1990-06-15"
    )
    married["name"][0]["use"] = "official"
    assert import_ok(client, _transaction(married)) == woman
    assert _read(client, woman)["name"] == [
        {"use": "official", "family": "Married", "given": ["Test"]},
        {"use": "old", "family": "Alpha", "given": ["Test"]},
    ]
    # A birth year alone agrees with her stored birth date and does not blur it.
    vague = _patient({"system": HOSPITAL_A, "value": "MRN5"}, family="Married", birth="1990")
    vague["name"][0]["use"] = "official"
    assert import_ok(client, _transaction(vague)) == woman
    assert _read(client, woman)["birthDate"] == "1990-06-15"


# --- Patients without identifiers, and identifiers without a system ------------------------------


def test_the_same_patient_id_from_two_sources_is_two_women(
    client: TestClient, engine: Engine
) -> None:
    mine = import_ok(client, fb.v01_bundle())  # Patient/p1, no identifier
    assert import_ok(client, fb.v01_bundle()) == mine  # the same source again: the same woman
    _, token = make_user(client, Role.CLINICIAN, teams=(TEAM,))
    theirs = imported(_as(client, token, fb.v01_bundle()))
    assert theirs != mine
    assert counts(engine)["patients"] == 2
    assert _read(client, mine).get("identifier") is None  # an id is not an identifier


def test_an_identifier_without_a_system_names_her_only_for_its_source(
    client: TestClient, engine: Engine
) -> None:
    unsystemed = _patient({"value": "LOCAL-9"})
    mine = import_ok(client, _transaction(unsystemed))
    assert import_ok(client, _transaction(unsystemed)) == mine
    _, token = make_user(client, Role.CLINICIAN, teams=(TEAM,))
    theirs = imported(_as(client, token, _transaction(unsystemed)))
    assert theirs != mine
    assert counts(engine)["patients"] == 2
    # Out as sent: no system is made up for it. `|value` finds values sent without one.
    assert _read(client, mine)["identifier"] == [{"value": "LOCAL-9"}]
    assert len(_search(client, identifier="|LOCAL-9")) == 2


# --- in and out ----------------------------------------------------------------------------------


def test_identifiers_gender_and_names_keep_their_systems_and_uses(client: TestClient) -> None:
    sent = {
        "resourceType": "Patient",
        "identifier": [
            {"use": "usual", "type": MR, "system": HOSPITAL_A, "value": "MRN-42"},
            {"use": "official", "system": NHS, "value": "943 476 5919"},
        ],
        "name": [
            {"use": "official", "family": "Okafor", "given": ["Ada", "Grace"], "prefix": ["Dr"]},
            {"use": "maiden", "family": "Eze"},
            {"use": "nickname", "given": ["Dee"]},
        ],
        "gender": "female",
        "birthDate": "1990-05-01",
    }
    woman = import_ok(client, _transaction(sent))
    patient = _read(client, woman)
    for element in ("identifier", "name", "gender", "birthDate"):
        assert patient[element] == sent[element], element
    # Sent back, it is the same woman and nothing changes.
    assert import_ok(client, fb.bundle(patient, with_patient=False)) == woman
    assert _read(client, woman) == patient
    # The pages' hospital number is the identifier typed MR (no local-system one here).
    found = client.get("/api/patients", params={"search": "MRN-42"}).json()
    assert [p["id"] for p in found["items"]] == [woman]
    assert found["items"][0]["hospital_number"] == "MRN-42"


def test_a_woman_registered_by_form_has_the_local_system(client: TestClient) -> None:
    registered = client.post("/api/patients", json={"hospital_number": "H-9", "family_name": "Oke"})
    assert registered.status_code == 201, registered.text
    woman = registered.json()["id"]
    [identifier] = _read(client, woman)["identifier"]
    assert identifier["system"] == c.DEFAULT_HOSPITAL_NUMBER_SYSTEM
    assert identifier["value"] == "H-9"
    assert identifier["type"]["coding"] == [{"system": c.IDENTIFIER_TYPE, "code": "MR"}]
    # An EHR that uses the same system names her; the same value elsewhere is someone else.
    local = _patient({"system": c.DEFAULT_HOSPITAL_NUMBER_SYSTEM, "value": "H-9"}, family="Oke")
    assert import_ok(client, _transaction(local)) == woman
    elsewhere = _patient({"system": HOSPITAL_A, "value": "H-9"}, family="Oke")
    assert import_ok(client, _transaction(elsewhere)) != woman
    # A correction by form changes her local identifier; the other hospital's stays apart.
    changed = client.patch(f"/api/patients/{woman}", json={"hospital_number": "H-10"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["hospital_number"] == "H-10"
    assert [p["id"] for p in _search(client, identifier="H-10")] == [woman]
    assert len(_search(client, identifier="H-9")) == 1


# --- the transaction's answer --------------------------------------------------------------------


def test_post_entries_that_create_answer_201_with_their_location(client: TestClient) -> None:
    bundle = _transaction(_patient({"system": HOSPITAL_A, "value": "MRN-201"}))
    answer = post_bundle(client, bundle)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(FHIR_JSON)
    replies = [e["response"] for e in answer.json()["entry"]]
    assert [r["status"] for r in replies] == ["201 Created"] * 3
    for sent, reply in zip(bundle["entry"], replies, strict=True):
        read = client.get(f"/fhir/{reply['location']}", headers=HEADERS)
        assert read.status_code == 200, reply
        assert read.json()["resourceType"] == sent["resource"]["resourceType"]
    # The same again creates nothing: each entry names what is there.
    again = [e["response"] for e in post_bundle(client, bundle).json()["entry"]]
    assert [r["status"] for r in again] == ["200 OK"] * 3
    assert [r["location"] for r in again] == [r["location"] for r in replies]
    # A new length for her is created; her Patient and due date were there.
    later = _transaction(_patient({"system": HOSPITAL_A, "value": "MRN-201"}), length_mm=25)
    statuses = [e["response"]["status"] for e in post_bundle(client, later).json()["entry"]]
    assert statuses == ["200 OK", "200 OK", "201 Created"]
