"""POST /fhir as FHIR R4 transactions (issue 11, part 3): DELETE entries, the same facts sent
twice under other ids, and response Bundles valid against the FHIR R4B models."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import Engine

from cervixwatch.store.models import Role
from tests import fhir_builders as fb
from tests.web.accounts import TEAM, bearer, make_user
from tests.web.fhir_client import (
    HEADERS,
    counts,
    emptied,
    everything,
    post_bundle,
    resources,
    shared_app,
)

HOSPITAL = "urn:oid:1.2.826.0.1.1"


@pytest.fixture(scope="module")
def shared(engine: Engine) -> Iterator[TestClient]:
    with shared_app(engine) as client:
        yield client


@pytest.fixture
def client(shared: TestClient, engine: Engine) -> Iterator[TestClient]:
    with emptied(engine, shared) as client:
        yield client


def _answer(response: Any) -> dict[str, Any]:
    """A transaction-response, checked against the FHIR R4B model."""
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    Bundle.model_validate(answer)
    assert answer["type"] == "transaction-response"
    return answer


def _her(bundle: dict[str, Any]) -> dict[str, Any]:
    """`bundle` with her Patient known by a hospital number, as a feed sends her."""
    bundle = copy.deepcopy(bundle)
    bundle["entry"][0]["resource"]["identifier"] = [{"system": HOSPITAL, "value": "H-1"}]
    return bundle


def _delete(url: str, resource: dict[str, Any] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"request": {"method": "DELETE", "url": url}}
    if resource is not None:
        entry["resource"] = resource
    return entry


def _records(client: TestClient, patient_id: str, kind: str) -> list[dict[str, Any]]:
    return [
        r
        for r in resources(everything(client, patient_id))
        if r["resourceType"] == "Observation"
        and any(k["code"] == kind for k in r["code"]["coding"])
    ]


def test_a_delete_entry_removes_what_it_names_and_stores_nothing_it_carries(
    client: TestClient, engine: Engine
) -> None:
    sent = _her(fb.bundle(fb.edd(), fb.cervical_length(22, rid="cl-1")))
    patient_id = _answer(post_bundle(client, sent))["entry"][0]["response"]["location"]
    patient_id = patient_id.removeprefix("Patient/")
    assert len(_records(client, patient_id, "11961-0")) == 1
    # The DELETE carries a resource (a length of 9 mm): that resource is not stored.
    carried = fb.cervical_length(9, rid="cl-2")
    delete = _her(fb.bundle())
    delete["type"] = "transaction"
    delete["entry"] += [_delete("Observation/cl-1"), _delete("Observation/cl-2", carried)]
    answer = _answer(post_bundle(client, delete))
    assert [e["response"]["status"] for e in answer["entry"][1:]] == ["204 No Content"] * 2
    assert _records(client, patient_id, "11961-0") == []
    assert counts(engine)["cervical_lengths"] == 0


def test_a_conditional_delete_is_refused_and_changes_nothing(
    client: TestClient, engine: Engine
) -> None:
    post_bundle(client, _her(fb.bundle(fb.edd(), fb.cervical_length(22, rid="cl-1"))))
    before = counts(engine)
    delete = _her(fb.bundle())
    delete["entry"].append(_delete("Observation?code=11961-0"))
    answer = post_bundle(client, delete)
    assert answer.status_code == 422, answer.text
    assert answer.json()["issue"][0]["expression"] == ["Bundle.entry[1].request.url"]
    assert counts(engine) == before


def test_the_same_facts_from_a_second_feed_under_other_ids_are_stored_once(
    client: TestClient, engine: Engine
) -> None:
    """Issue 11: "2 previous pregnancies: sPTB 30+0 (2023); sPTB 30+0 (2023)"."""
    first = _her(fb.bundle(fb.edd(), fb.prior_pregnancy(rid="prior-1"), fb.cervical_length(22)))
    _answer(post_bundle(client, first))
    stored = counts(engine)
    _, token = make_user(client, Role.CLINICIAN, teams=(TEAM,))
    second = _her(
        fb.bundle(
            fb.edd(rid="their-edd"),
            fb.prior_pregnancy(rid="their-prior-7"),
            fb.cervical_length(22, rid="their-cl-3"),
        )
    )
    body = orjson.dumps(second)
    response = client.post("/fhir", content=body, headers=HEADERS | bearer(token))
    answer = _answer(response)
    assert counts(engine)["prior_pregnancies"] == stored["prior_pregnancies"] == 1
    assert counts(engine)["cervical_lengths"] == stored["cervical_lengths"] == 1
    notes = [str(e["response"].get("outcome", "")) for e in answer["entry"][2:]]
    assert all("already stored" in note for note in notes), notes
    # A new fact from the second feed is stored.
    second["entry"].append({"resource": fb.cervical_length(25, "2026-02-20", rid="their-cl-4")})
    client.post("/fhir", content=orjson.dumps(second), headers=HEADERS | bearer(token))
    assert counts(engine)["cervical_lengths"] == 2
