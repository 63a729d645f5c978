"""Versions of the served FHIR resources (issue 11, part 4): `meta.versionId` and
`meta.lastUpdated` on read, search and `$everything`, ETag and Last-Modified, the instance
history (`_since`, `_count`), vread (410 for a deletion), `If-Match` checks, and fhirpy over
HTTP. Every answer is checked against the FHIR R4B models and the R4 JSON schema."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhirpy import SyncFHIRClient
from sqlalchemy import Engine

from cervixwatch.app import accounts
from cervixwatch.app.errors import PreconditionFailed
from cervixwatch.app.versions import check_if_match, current_version
from cervixwatch.store.database import session_factory
from cervixwatch.store.models import Role
from tests import fhir_builders as fb
from tests.r4_schema import assert_r4
from tests.web import api_builders as api
from tests.web import live_server
from tests.web.accounts import TEAM, bearer, make_user
from tests.web.fhir_client import (
    HEADERS,
    emptied,
    everything,
    import_ok,
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


def _bundle(length_mm: float) -> dict[str, Any]:
    sent = fb.bundle(fb.edd(), fb.cervical_length(length_mm, rid="cl-1"))
    sent["entry"][0]["resource"]["identifier"] = [{"system": HOSPITAL, "value": "V-1"}]
    return sent


def _length(client: TestClient, patient_id: str) -> dict[str, Any]:
    found = [
        r
        for r in resources(everything(client, patient_id), "Observation")
        if r["id"].startswith("cl-")
    ]
    assert len(found) == 1
    return found[0]


def _get(client: TestClient, path: str, status: int = 200, **params: str) -> dict[str, Any]:
    response = client.get(f"/fhir/{path}", params=params, headers=HEADERS)
    assert response.status_code == status, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _checked(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource or Bundle, valid against the R4B models and the R4 schema."""
    if resource["resourceType"] == "Bundle":
        Bundle.model_validate(resource)
    elif resource["resourceType"] == "Observation":
        Observation.model_validate(resource)
    return assert_r4(resource)


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _imported_then_changed(client: TestClient) -> tuple[str, str, dict[str, Any]]:
    """A woman imported with a 22 mm cervix, the length then changed to 18 mm through the JSON
    API: (her id, the length's id, the length as first read)."""
    patient_id = import_ok(client, _bundle(22))
    first = _length(client, patient_id)
    row = first["id"].removeprefix("cl-")
    changed = client.patch(
        f"/api/cervical-lengths/{row}", params={"reason": "remeasured"}, json={"length_mm": 18}
    )
    assert changed.status_code == 200, changed.text
    return patient_id, first["id"], first


def test_a_record_imported_is_version_1_with_etag_and_last_modified(client: TestClient) -> None:
    patient_id = import_ok(client, _bundle(22))
    length = _length(client, patient_id)
    assert length["meta"]["versionId"] == "1"
    response = client.get(f"/fhir/Observation/{length['id']}", headers=HEADERS)
    assert response.status_code == 200
    read = _checked(response.json())
    assert read == length  # read and $everything agree, meta included
    assert response.headers["ETag"] == 'W/"1"'
    last_updated = _instant(read["meta"]["lastUpdated"])
    assert last_updated.tzinfo is not None
    modified = parsedate_to_datetime(response.headers["Last-Modified"])
    assert modified == last_updated.replace(microsecond=0)
    patient = _checked(_get(client, f"Patient/{patient_id}"))
    assert patient["meta"]["versionId"] == "1"
    found = _checked(_get(client, "Observation", patient=patient_id))
    assert {e["resource"]["id"]: e["resource"]["meta"] for e in found["entry"]}[
        length["id"]
    ] == length["meta"]
    # The assessment's resources are made again on each read: no version (module docstring of
    # app.version_meta), but their lastUpdated.
    guidance = resources(everything(client, patient_id), "GuidanceResponse")[0]
    assert "versionId" not in guidance["meta"]
    assert "lastUpdated" in guidance["meta"]


def test_a_changed_record_is_version_2_and_vread_gives_the_old_content(
    client: TestClient,
) -> None:
    patient_id, length_id, first = _imported_then_changed(client)
    now = _get(client, f"Observation/{length_id}")
    assert now["meta"]["versionId"] == "2"
    assert now["valueQuantity"]["value"] == 18
    assert _instant(now["meta"]["lastUpdated"]) >= _instant(first["meta"]["lastUpdated"])
    old = _checked(_get(client, f"Observation/{length_id}/_history/1"))
    assert old == first
    assert old["valueQuantity"]["value"] == 22
    response = client.get(f"/fhir/Observation/{length_id}/_history/2", headers=HEADERS)
    assert response.headers["ETag"] == 'W/"2"'
    assert response.json() == now
    history = _checked(_get(client, f"Observation/{length_id}/_history"))
    assert history["type"] == "history"
    assert history["total"] == 2
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    assert [e["request"] for e in history["entry"]] == [
        {"method": "PUT", "url": f"Observation/{length_id}"},
        {"method": "POST", "url": "Observation"},
    ]
    assert [e["response"]["status"] for e in history["entry"]] == ["200 OK", "201 Created"]
    assert history["entry"][0]["response"]["etag"] == 'W/"2"'
    assert history["entry"][0]["fullUrl"].endswith(f"/fhir/Observation/{length_id}")
    # Her other resources did not change: still version 1.
    assert _get(client, f"Patient/{patient_id}")["meta"]["versionId"] == "1"
    edd = [r for r in resources(everything(client, patient_id)) if r["id"].startswith("edd-")]
    assert edd[0]["meta"]["versionId"] == "1"


def test_json_api_writes_make_versions_of_what_they_change(client: TestClient) -> None:
    """A woman registered through the JSON API is version 1 as registered (not half written);
    renaming her makes version 2 of her Patient only; a record added is version 1."""
    created = api.patient(client, "H-77", family_name="Okafor")
    patient_id = created["id"]
    first = _checked(_get(client, f"Patient/{patient_id}"))
    assert first["meta"]["versionId"] == "1"
    assert [i["value"] for i in first["identifier"]] == ["H-77"]
    api.ok(client.patch(f"/api/patients/{patient_id}", json={"family_name": "Adeyemi"}))
    pregnancy = api.pregnancy(client, patient_id)
    api.ok(
        client.post(
            f"/api/pregnancies/{pregnancy['id']}/cervical-lengths",
            json={"measured_on": "2026-02-20", "length_mm": 30},
        ),
        201,
    )
    history = _checked(_get(client, f"Patient/{patient_id}/_history"))
    assert [e["resource"]["name"][0]["family"] for e in history["entry"]] == [
        "Adeyemi",
        "Okafor",
    ]
    assert history["entry"][1]["resource"] == first
    length = _length(client, patient_id)
    assert length["meta"]["versionId"] == "1"
    assert _get(client, f"Patient/{patient_id}")["meta"]["versionId"] == "2"


def test_a_review_and_its_deletion_are_versions_of_its_task(client: TestClient) -> None:
    """A review added to a report (a record held inside a record) is a Task at version 1;
    deleting it is the Task's version 2, a deletion; the report is not changed by either."""
    patient_id, pregnancy_id = api.woman(client, ga_today="30+0")
    report = api.ok(
        client.post(
            f"/api/pregnancies/{pregnancy_id}/symptom-reports",
            json={"reported_on": "2026-03-01", "present": ["contractions"]},
        ),
        201,
    )
    review = api.ok(
        client.post(
            f"/api/symptom-reports/{report['id']}/reviews", json={"outcome": "seen-in-triage"}
        ),
        201,
    )
    task_id = f"review-{review['id']}"
    assert _get(client, f"Task/{task_id}")["meta"]["versionId"] == "1"
    assert client.delete(f"/api/symptom-reviews/{review['id']}").status_code == 204
    history = _checked(_get(client, f"Task/{task_id}/_history"))
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "POST"]
    response = _get(client, f"QuestionnaireResponse/symptoms-{report['id']}")
    assert response["meta"]["versionId"] == "1"
    assert patient_id in response["subject"]["reference"]


def test_since_and_count_page_the_history(client: TestClient) -> None:
    _, length_id, _ = _imported_then_changed(client)
    newest = _get(client, f"Observation/{length_id}")["meta"]["lastUpdated"]
    since = _checked(_get(client, f"Observation/{length_id}/_history", _since=newest))
    assert [e["resource"]["meta"]["versionId"] for e in since["entry"]] == ["2"]
    later = _instant(newest) + dt.timedelta(seconds=1)
    none = _checked(_get(client, f"Observation/{length_id}/_history", _since=later.isoformat()))
    assert none["total"] == 0
    assert "entry" not in none
    day = _checked(_get(client, f"Observation/{length_id}/_history", _since="2000-01-01"))
    assert day["total"] == 2
    page = _checked(_get(client, f"Observation/{length_id}/_history", _count="1"))
    assert [e["resource"]["meta"]["versionId"] for e in page["entry"]] == ["2"]
    following = next(link["url"] for link in page["link"] if link["relation"] == "next")
    rest = client.get(following.split("://", 1)[1].split("/", 1)[1], headers=HEADERS).json()
    assert [e["resource"]["meta"]["versionId"] for e in rest["entry"]] == ["1"]
    bad = client.get(
        f"/fhir/Observation/{length_id}/_history", params={"_since": "yesterday"}, headers=HEADERS
    )
    assert bad.status_code == 400
    assert bad.json()["issue"][0]["expression"] == ["_since"]


def test_a_deleted_record_shows_in_its_history_and_its_version_is_gone(
    client: TestClient,
) -> None:
    _, length_id, _ = _imported_then_changed(client)
    # Deleted by the FHIR API (the JSON API's DELETE marks it entered in error instead:
    # test_api_corrections).
    deleted = client.delete(f"/fhir/Observation/{length_id}", headers=HEADERS)
    assert deleted.status_code == 204, deleted.text
    _get(client, f"Observation/{length_id}", 410)
    history = _checked(_get(client, f"Observation/{length_id}/_history"))
    assert history["total"] == 3
    gone = history["entry"][0]
    assert "resource" not in gone
    assert gone["request"] == {"method": "DELETE", "url": f"Observation/{length_id}"}
    assert gone["response"]["etag"] == 'W/"3"'
    outcome = _get(client, f"Observation/{length_id}/_history/3", 410)
    assert outcome["issue"][0]["code"] == "deleted"
    assert _get(client, f"Observation/{length_id}/_history/1")["valueQuantity"]["value"] == 22
    _get(client, f"Observation/{length_id}/_history/4", 404)
    _get(client, f"Observation/{length_id}/_history/x", 404)
    _get(client, "Observation/cl-999999/_history", 404)


def test_history_is_read_by_whom_may_read_the_record(client: TestClient) -> None:
    _, length_id, _ = _imported_then_changed(client)
    _, other = make_user(client, Role.CLINICIAN, teams=("Another team",))
    for path in (f"Observation/{length_id}/_history", f"Observation/{length_id}/_history/1"):
        response = client.get(f"/fhir/{path}", headers={**HEADERS, **bearer(other)})
        assert response.status_code == 404, response.text
    # The assessment's resources and unknown types have no history.
    assert client.get("/fhir/GuidanceResponse/assessment-1/_history").status_code == 404
    assert client.get("/fhir/Banana/1/_history").status_code == 404


def test_a_resent_bundle_that_changes_a_record_makes_version_2(client: TestClient) -> None:
    patient_id = import_ok(client, _bundle(22))
    length_id = _length(client, patient_id)["id"]
    import_ok(client, _bundle(19))
    history = _checked(_get(client, f"Observation/{length_id}/_history"))
    assert [e["resource"]["valueQuantity"]["value"] for e in history["entry"]] == [19, 22]
    # The same again changes nothing: no new version.
    assert post_bundle(client, _bundle(19)).status_code == 200
    assert _get(client, f"Observation/{length_id}")["meta"]["versionId"] == "2"
    assert _get(client, f"Observation/{length_id}/_history")["total"] == 2


def test_if_match_names_the_version_an_update_was_made_for(
    client: TestClient, engine: Engine
) -> None:
    _, length_id, _ = _imported_then_changed(client)
    sessions = session_factory(engine)
    with sessions() as session:
        version = current_version(session, "Observation", length_id)
        assert version is not None
        assert version[0] == 2
        for header in (None, 'W/"2"', '"2"', "*", 'W/"1", W/"2"'):
            check_if_match(session, "Observation", length_id, header)
        for header in ('W/"1"', "W/2", "", "garbage"):
            with pytest.raises(PreconditionFailed, match="version"):
                check_if_match(session, "Observation", length_id, header)
        with pytest.raises(PreconditionFailed, match="does not exist"):
            check_if_match(session, "Observation", "cl-999999", "*")
        assert current_version(session, "Observation", "cl-999999") is None
        assert current_version(session, "GuidanceResponse", "assessment-1") is None


def test_the_capability_statement_says_which_types_have_versions(client: TestClient) -> None:
    statement = _checked(_get(client, "metadata"))
    by_type = {r["type"]: r for r in statement["rest"][0]["resource"]}
    for kind in ("Patient", "Observation", "Task"):
        codes = [i["code"] for i in by_type[kind]["interaction"]]
        assert {"read", "vread", "history-instance"} <= set(codes)
        assert by_type[kind]["versioning"] == "versioned"
        assert by_type[kind]["readHistory"] is True
    for kind in ("GuidanceResponse", "Flag", "AuditEvent", "CodeSystem"):
        assert by_type[kind]["versioning"] == "no-version"
        assert "history-instance" not in [i["code"] for i in by_type[kind]["interaction"]]


@pytest.fixture
def fhir(engine: Engine) -> Iterator[tuple[SyncFHIRClient, TestClient]]:
    """fhirpy's client of the app served over HTTP, and a test client of the same database,
    both acting for clinicians of `TEAM`."""
    sessions = session_factory(engine)
    username = f"fhirpy-{time.monotonic_ns()}"
    accounts.add_user(sessions, username, Role.CLINICIAN, password=None, teams=(TEAM,))
    token = accounts.issue_token(sessions, username, "fhirpy", days=1).secret
    with (
        shared_app(engine) as setup,
        emptied(engine, setup),
        live_server.served(engine) as base,
    ):
        yield SyncFHIRClient(f"{base}/fhir", authorization=f"Bearer {token}"), setup


def test_fhirpy_reads_versions_and_the_history(
    fhir: tuple[SyncFHIRClient, TestClient],
) -> None:
    client, setup = fhir
    _, length_id, _ = _imported_then_changed(setup)
    length = client.reference("Observation", length_id).to_resource()
    assert length["meta"]["versionId"] == "2"
    # fhirpy has no history call: the raw request, as its documentation suggests.
    history = client.execute(f"Observation/{length_id}/_history", method="get")
    _checked(history)
    assert [e["resource"]["valueQuantity"]["value"] for e in history["entry"]] == [18, 22]
    old = client.execute(f"Observation/{length_id}/_history/1", method="get")
    assert old["meta"]["versionId"] == "1"
    assert old["valueQuantity"]["value"] == 22
