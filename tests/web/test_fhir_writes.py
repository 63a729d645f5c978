"""FHIR writes as the R4 specification defines them (issue 11, part 3): create (POST, and with
If-None-Exist), update (PUT by id, and PUT Type?search), delete, transactions with
`ifNoneExist`, conditional updates and conditional references, and batches answered entry by
entry. Every answer is checked against the FHIR R4B models and the R4 JSON schema; rows are
counted before and after where nothing may change."""

from __future__ import annotations

import copy
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from sqlalchemy import Engine

from tests import fhir_builders as fb
from tests.r4_schema import assert_r4
from tests.web.fhir_client import HEADERS, counts, emptied, issue, post_bundle, shared_app

HOSPITAL = "urn:oid:1.2.826.0.1.1"


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[TestClient]:
    with shared_app(engine) as client:
        yield client


@pytest.fixture
def client(shared: TestClient, engine: Engine) -> Iterator[TestClient]:
    with emptied(engine, shared) as client:
        yield client


def _patient(value: str = "H-1", family: str = "Testwoman") -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": HOSPITAL, "value": value}],
        "name": [{"family": family, "given": ["Ada"]}],
        "gender": "female",
        "birthDate": "1990-05-01",
    }


def _length(patient: str, mm: float = 24, day: str = "2026-02-02") -> dict[str, Any]:
    length = fb.cervical_length(mm, day)
    length.pop("id", None)
    length["subject"] = {"reference": patient}
    return length


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert_r4(body)
    assert (
        response.headers["location"]
        .split("/fhir/")[1]
        .startswith(f"{body['resourceType']}/{body['id']}")
    )
    return body


def _register(client: TestClient, value: str = "H-1", family: str = "Testwoman") -> str:
    made = _created(client.post("/fhir/Patient", json=_patient(value, family), headers=HEADERS))
    return str(made["id"])


def test_create_read_update_delete_one_record(client: TestClient, engine: Engine) -> None:
    woman = _register(client)
    made = _created(
        client.post("/fhir/Observation", json=_length(f"Patient/{woman}"), headers=HEADERS)
    )
    Observation.model_validate(made)
    assert made["valueQuantity"]["value"] == 24
    read = client.get(f"/fhir/Observation/{made['id']}", headers=HEADERS).json()
    assert read["valueQuantity"]["value"] == 24
    before = counts(engine)
    # Update by id: the same resource, another value; the same row.
    changed = copy.deepcopy(read)
    changed["valueQuantity"]["value"] = 19
    updated = client.put(f"/fhir/Observation/{made['id']}", json=changed, headers=HEADERS)
    assert updated.status_code == 200, updated.text
    assert updated.json()["id"] == made["id"]
    assert updated.json()["valueQuantity"]["value"] == 19
    assert counts(engine)["cervical_lengths"] == before["cervical_lengths"]
    # The id in the body must be the id in the URL.
    wrong = {**changed, "id": "cl-999999"}
    issue(client.put(f"/fhir/Observation/{made['id']}", json=wrong, headers=HEADERS), 400)
    # Delete: 204, and it is gone.
    gone = client.delete(f"/fhir/Observation/{made['id']}", headers=HEADERS)
    assert gone.status_code == 204, gone.text
    assert counts(engine)["cervical_lengths"] == before["cervical_lengths"] - 1
    # Read again: 410 Gone (it was hers, and her history keeps it), not 404.
    assert issue(client.get(f"/fhir/Observation/{made['id']}", headers=HEADERS), 410)


def test_an_update_of_an_id_this_server_never_gave_is_refused(
    client: TestClient, engine: Engine
) -> None:
    woman = _register(client)
    before = counts(engine)
    sent = {**_length(f"Patient/{woman}"), "id": "ehr-obs-1"}
    refused = client.put("/fhir/Observation/ehr-obs-1", json=sent, headers=HEADERS)
    assert "updateCreate" in issue(refused, 405)["diagnostics"]
    assert counts(engine) == before


def test_a_conditional_create_finds_her_and_stores_nothing_twice(
    client: TestClient, engine: Engine
) -> None:
    woman = _register(client)
    before = counts(engine)
    again = client.post(
        "/fhir/Patient",
        json=_patient(),
        headers={**HEADERS, "If-None-Exist": f"identifier={HOSPITAL}|H-1"},
    )
    assert again.status_code == 200, again.text
    assert again.json()["id"] == woman
    assert counts(engine) == before


def test_a_conditional_update_updates_one_match_and_creates_on_none(
    client: TestClient, engine: Engine
) -> None:
    woman = _register(client)
    renamed = _patient(family="Renamed")
    updated = client.put(f"/fhir/Patient?identifier={HOSPITAL}|H-1", json=renamed, headers=HEADERS)
    assert updated.status_code == 200, updated.text
    assert updated.json()["id"] == woman
    assert updated.json()["name"][0]["family"] == "Renamed"
    created = client.put(
        f"/fhir/Patient?identifier={HOSPITAL}|H-2", json=_patient("H-2"), headers=HEADERS
    )
    assert created.status_code == 201, created.text
    assert created.json()["id"] != woman
    # Two women named Renamed and Testwoman... one family matches each; "given" both: 412.
    before = counts(engine)
    several = client.put("/fhir/Patient?given=Ada", json=_patient("H-3"), headers=HEADERS)
    assert issue(several, 412)["code"] == "conflict"
    assert counts(engine) == before


def _transaction(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


def test_a_transaction_with_if_none_exist_and_a_conditional_reference(
    client: TestClient, engine: Engine
) -> None:
    woman = _register(client)
    patient_url = "urn:uuid:6a0c1f2e-0000-4000-8000-000000000001"
    sent = _transaction(
        {
            "fullUrl": patient_url,
            "resource": _patient(),
            "request": {
                "method": "POST",
                "url": "Patient",
                "ifNoneExist": f"identifier={HOSPITAL}|H-1",
            },
        },
        {
            "request": {"method": "POST", "url": "Observation"},
            "resource": _length(patient_url, 22, "2026-02-03"),
        },
        {
            "request": {"method": "POST", "url": "Observation"},
            "resource": _length(f"Patient?identifier={HOSPITAL}|H-1", 21, "2026-02-10"),
        },
    )
    answer = post_bundle(client, sent)
    assert answer.status_code == 200, answer.text
    Bundle.model_validate(answer.json())
    assert_r4(answer.json())
    statuses = [e["response"]["status"] for e in answer.json()["entry"]]
    assert statuses == ["200 OK", "201 Created", "201 Created"]
    assert answer.json()["entry"][0]["response"]["location"] == f"Patient/{woman}"
    lengths = client.get(f"/fhir/Observation?patient={woman}", headers=HEADERS).json()
    values = sorted(e["resource"]["valueQuantity"]["value"] for e in lengths["entry"])
    assert values == [21, 22]
    assert counts(engine)["patients"] == 1


def test_a_conditional_reference_that_names_nobody_stores_nothing(
    client: TestClient, engine: Engine
) -> None:
    _register(client)
    before = counts(engine)
    sent = _transaction(
        {
            "request": {"method": "POST", "url": "Observation"},
            "resource": _length(f"Patient?identifier={HOSPITAL}|NOBODY"),
        }
    )
    found = issue(post_bundle(client, sent), 404)
    assert "Bundle.entry[0].resource.subject.reference" in found["diagnostics"]
    assert counts(engine) == before


def test_a_new_woman_and_her_records_by_conditional_reference_in_one_transaction(
    client: TestClient,
) -> None:
    sent = _transaction(
        {
            "fullUrl": "urn:uuid:6a0c1f2e-0000-4000-8000-000000000009",
            "resource": _patient("H-9"),
            "request": {"method": "POST", "url": "Patient"},
        },
        {
            "request": {"method": "POST", "url": "Observation"},
            "resource": _length(f"Patient?identifier={HOSPITAL}|H-9"),
        },
    )
    answer = post_bundle(client, sent)
    assert answer.status_code == 200, answer.text
    assert [e["response"]["status"] for e in answer.json()["entry"]] == [
        "201 Created",
        "201 Created",
    ]


def test_a_batch_answers_each_entry_and_keeps_what_succeeded(
    client: TestClient, engine: Engine
) -> None:
    woman = _register(client)
    too_long = _length(f"Patient/{woman}", 24, "2026-02-05")
    too_long["valueQuantity"]["unit"] = too_long["valueQuantity"]["code"] = "kg"
    sent = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {
                "request": {"method": "POST", "url": "Observation"},
                "resource": _length(f"Patient/{woman}", 23, "2026-02-04"),
            },
            {"request": {"method": "POST", "url": "Observation"}, "resource": too_long},
            {
                "request": {"method": "POST", "url": "Observation"},
                "resource": _length("Patient/nobody-here"),
            },
        ],
    }
    answer = post_bundle(client, sent)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    Bundle.model_validate(body)
    assert_r4(body)
    assert body["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses[0] == "201 Created"
    assert statuses[1].startswith("422")
    assert statuses[2].startswith(("404", "422"))
    failed = body["entry"][1]["response"]["outcome"]["issue"][0]
    assert "Bundle.entry[1]" in failed["expression"][0]
    assert counts(engine)["cervical_lengths"] == 1


def test_a_write_of_her_assessment_is_refused(client: TestClient) -> None:
    refused = client.post(
        "/fhir/GuidanceResponse", json={"resourceType": "GuidanceResponse"}, headers=HEADERS
    )
    assert issue(refused, 405)["code"] == "not-supported"


def test_an_update_for_another_version_is_refused(client: TestClient, engine: Engine) -> None:
    woman = _register(client)
    made = client.post("/fhir/Observation", json=_length(f"Patient/{woman}"), headers=HEADERS)
    read = client.get(f"/fhir/Observation/{made.json()['id']}", headers=HEADERS)
    etag = read.headers["etag"]
    assert etag == f'W/"{read.json()["meta"]["versionId"]}"'
    changed = copy.deepcopy(read.json())
    changed["valueQuantity"]["value"] = 18
    url = f"/fhir/Observation/{changed['id']}"
    stale = client.put(url, json=changed, headers={**HEADERS, "If-Match": 'W/"999"'})
    assert issue(stale, 412)["code"] == "conflict"
    unchanged = client.get(url, headers=HEADERS).json()
    assert unchanged["valueQuantity"]["value"] == 24
    fresh = client.put(url, json=changed, headers={**HEADERS, "If-Match": etag})
    assert fresh.status_code == 200, fresh.text
    assert fresh.headers["etag"] != etag
    assert fresh.headers["location"].endswith(f"/_history/{fresh.json()['meta']['versionId']}")
    # The version it was made for is now an old one: the same If-Match is refused.
    issue(client.put(url, json=changed, headers={**HEADERS, "If-Match": etag}), 412)


def test_the_capability_statement_claims_the_writes_that_work(client: TestClient) -> None:
    statement = client.get("/fhir/metadata", headers=HEADERS).json()
    rest = statement["rest"][0]
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch"}
    for resource in rest["resource"]:
        # A type served only through an operation (Group: its $export) has no interaction.
        codes = {i["code"] for i in resource.get("interaction", [])}
        writes = codes & {"create", "update", "delete"}
        if resource["type"] == "Patient":
            assert writes == {"create", "update"}
        elif resource["type"] in ("Observation", "Procedure", "Task"):
            assert writes == {"create", "update", "delete"}
            assert resource["conditionalCreate"]
            assert resource["conditionalUpdate"]
        elif resource["type"] in ("GuidanceResponse", "CodeSystem", "AuditEvent"):
            assert not writes
            kind = resource["type"]
            refused = client.post(f"/fhir/{kind}", json={"resourceType": kind}, headers=HEADERS)
            assert refused.status_code in (403, 405), refused.text
        assert resource.get("updateCreate", False) is False


def test_last_updated_finds_what_changed_since_a_moment(client: TestClient) -> None:
    woman = _register(client, "H-5")
    first = client.post("/fhir/Observation", json=_length(f"Patient/{woman}", 24), headers=HEADERS)
    second = client.post(
        "/fhir/Observation", json=_length(f"Patient/{woman}", 23, "2026-02-09"), headers=HEADERS
    )
    time.sleep(0.05)
    since = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    time.sleep(0.05)
    changed = client.get(f"/fhir/Observation/{first.json()['id']}", headers=HEADERS).json()
    changed["valueQuantity"]["value"] = 18
    assert client.put(
        f"/fhir/Observation/{changed['id']}", json=changed, headers=HEADERS
    ).is_success
    other = _register(client, "H-6", "Otherwoman")
    theirs = client.post("/fhir/Observation", json=_length(f"Patient/{other}"), headers=HEADERS)

    def found(kind: str, value: str) -> set[str]:
        answer = client.get(f"/fhir/{kind}", params={"_lastUpdated": value}, headers=HEADERS)
        assert answer.status_code == 200, answer.text
        assert_r4(answer.json())
        return {e["resource"]["id"] for e in answer.json().get("entry", ())}

    assert found("Observation", f"ge{since}") == {changed["id"], theirs.json()["id"]}
    assert second.json()["id"] not in found("Observation", f"gt{since}")
    assert found("Patient", f"ge{since}") == {other}
    assert found("Observation", "ge2999-01-01") == set()
    for refused in (f"lt{since}", f"eq{since}", "ge2026-12-06T09:00:00"):
        answer = client.get("/fhir/Observation", params={"_lastUpdated": refused}, headers=HEADERS)
        assert issue(answer, 400)["expression"] == ["_lastUpdated"]
