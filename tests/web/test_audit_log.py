"""The audit log: every access to patient data leaves exactly one entry (refused ones too),
auditors alone read the log (as a JSON list, an NDJSON export of FHIR R4 AuditEvents, or
through the FHIR facade), and the database itself refuses to change or delete an entry.

Entries outlive every test (they cannot be deleted), so each test finds its own by request id
(the answer's X-Request-ID), by a woman's id or by a user's id, never by counting the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.auditevent import AuditEvent
from httpx2 import Response
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import DBAPIError

from cervixwatch.interop.fhir_audit import (
    USER_SYSTEM,
    audit_event_resource,
    event_action,
    event_outcome,
)
from cervixwatch.store.audit import AuditEntry, record
from cervixwatch.store.audit_queries import AuditFilter, iter_events
from cervixwatch.store.database import session_factory
from cervixwatch.store.models import AuditEventRow, AuditOutcome, Role
from tests import fhir_builders as fb
from tests.r4_schema import assert_r4
from tests.store.tables import delete_everything
from tests.web.accounts import TEAM, bearer, make_user
from tests.web.api_builders import at, ok, seed
from tests.web.fhir_client import FHIR_JSON, post_bundle
from tests.web.test_api_records import KINDS

LIST = "/api/audit-events"
EXPORT = "/api/audit-events.ndjson"
SEARCH = "/fhir/AuditEvent"
OTHER_TEAM = "Another team"


# --- helpers ------------------------------------------------------------------------------------


def entries(client: TestClient, request_id: str) -> list[AuditEventRow]:
    """The entries written for one request (its answer's X-Request-ID)."""
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        query = select(AuditEventRow).where(AuditEventRow.request_id == request_id)
        return list(session.scalars(query))


def only_entry(client: TestClient, response: Response) -> AuditEventRow:
    found = entries(client, response.headers["X-Request-ID"])
    assert len(found) == 1, f"{len(found)} entries for one request"
    return found[0]


def user(client: TestClient, role: Role, **fields: Any) -> tuple[str, dict[str, str]]:
    """A new user of `role`: (her user id, the headers that act for her)."""
    _, token = make_user(client, role, **fields)
    headers = bearer(token)
    return ok(client.get("/auth/me", headers=headers))["id"], headers


@contextmanager
def signed_out(client: TestClient) -> Iterator[TestClient]:
    saved = client.headers.pop("Authorization")
    try:
        yield client
    finally:
        client.headers["Authorization"] = saved


def ndjson(response: Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+ndjson")
    assert response.content == b"" or response.content.endswith(b"\n")
    return [orjson.loads(line) for line in response.content.splitlines()]


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """`resource`, checked against the FHIR R4B AuditEvent model and the R4 JSON schema."""
    AuditEvent.model_validate(resource)
    return assert_r4(resource)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- the mapping, on its own ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "method", "route", "code"),
    [
        ("read", "GET", "/api/patients/{patient_id}", "R"),
        ("search", "GET", "/api/patients", "E"),
        ("create", "POST", "/api/patients", "C"),
        ("write", "POST", "/api/patients/{patient_id}/maternal-conditions", "C"),
        ("write", "PATCH", "/api/maternal-conditions/{record_id}", "U"),
        ("delete", "DELETE", "/api/maternal-conditions/{record_id}", "D"),
        ("import", "POST", "/fhir", "C"),
        ("export", "GET", "/fhir/Patient/{patient_id}/$everything", "R"),
        ("sign-in", "POST", "/auth/sign-in", "E"),
        ("audit-read", "GET", "/api/audit-events", "E"),
        ("audit-read", "GET", "/fhir/AuditEvent/{event_id}", "R"),
        ("token-issue", "POST", "/api/tokens", "C"),
        ("token-revoke", "DELETE", "/api/tokens/{token_id}", "D"),
    ],
)
def test_actions_map_to_audit_event_action_codes(
    action: str, method: str, route: str, code: str
) -> None:
    assert event_action(action, method, route) == code


def test_outcomes_map_to_audit_event_outcome_codes() -> None:
    codes = {outcome: event_outcome(outcome) for outcome in AuditOutcome}
    assert codes == {
        AuditOutcome.SUCCESS: "0",
        AuditOutcome.DENIED: "4",
        AuditOutcome.INVALID: "4",
        AuditOutcome.FAILED: "8",
    }


def test_an_anonymous_entry_is_a_valid_audit_event() -> None:
    row = AuditEventRow(
        id=7,
        recorded_at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
        actor_id=None,
        actor_role=None,
        via=None,
        action="read",
        method="GET",
        route="/api/patients/{patient_id}",
        path="/api/patients/abc",
        patient_id=None,
        client_address=None,
        outcome=AuditOutcome.DENIED,
        status=401,
        request_id="r-1",
    )
    resource = valid(audit_event_resource(row, "https://cw.example/fhir"))
    assert resource["id"] == "7"
    assert resource["recorded"] == "2026-03-02T09:30:00Z"
    assert resource["outcome"] == "4"
    assert "who" not in resource["agent"][0]
    assert [e.get("what") for e in resource["entity"]] == [None]


# --- who may read the log ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.ADMIN, Role.PATIENT])
def test_only_auditors_read_the_log(client: TestClient, role: Role) -> None:
    her = seed(client, "X1", at("20+0"))
    fields: dict[str, Any] = {"patient_id": her.patient_id} if role == Role.PATIENT else {}
    if role == Role.CLINICIAN:
        fields["teams"] = (TEAM,)
    user_id, headers = user(client, role, **fields)
    for path in (LIST, EXPORT, SEARCH, f"{SEARCH}/1"):
        refused = client.get(path, headers=headers)
        assert refused.status_code == 403, f"{path}: {refused.text}"
        entry = only_entry(client, refused)
        assert (entry.actor_id, entry.action, entry.outcome) == (
            user_id,
            "audit-read",
            AuditOutcome.DENIED,
        )
    assert client.get(SEARCH, headers=headers).json()["issue"][0]["code"] == "forbidden"


def test_anonymous_callers_are_asked_to_sign_in(client: TestClient) -> None:
    with signed_out(client):
        for path in (LIST, EXPORT, SEARCH, f"{SEARCH}/1"):
            refused = client.get(path)
            assert refused.status_code == 401, f"{path}: {refused.text}"
            entry = only_entry(client, refused)
            assert (entry.actor_id, entry.action, entry.outcome) == (
                None,
                "audit-read",
                AuditOutcome.DENIED,
            )
        assert client.get(SEARCH).json()["issue"][0]["code"] == "login"


# --- the JSON list -------------------------------------------------------------------------------


def test_an_auditor_lists_entries_and_filters_by_patient(client: TestClient) -> None:
    x = seed(client, "X1", at("20+0"))
    y = seed(client, "Y1", at("22+0"))
    reads = [client.get(f"/api/patients/{x.patient_id}") for _ in range(2)]
    client.get(f"/api/patients/{y.patient_id}")
    clinician_id = ok(client.get("/auth/me"))["id"]
    auditor_id, auditor = user(client, Role.AUDITOR)

    response = client.get(LIST, params={"patient_id": x.patient_id}, headers=auditor)
    page = ok(response)
    assert page["total"] == 2
    assert (page["page"], page["page_size"]) == (1, 50)
    items = page["items"]
    # Newest first.
    assert [i["request_id"] for i in items] == [r.headers["X-Request-ID"] for r in reversed(reads)]
    assert items[0]["id"] > items[1]["id"]
    assert set(items[0]) == {c.name for c in AuditEventRow.__table__.columns}
    assert {
        k: items[0][k]
        for k in ("actor_id", "actor_role", "via", "action", "method", "patient_id", "outcome")
    } == {
        "actor_id": clinician_id,
        "actor_role": "clinician",
        "via": "token",
        "action": "read",
        "method": "GET",
        "patient_id": x.patient_id,
        "outcome": "success",
    }
    assert items[0]["route"] == "/api/patients/{patient_id}"
    assert items[0]["path"] == f"/api/patients/{x.patient_id}"
    assert items[0]["status"] == 200

    # The auditor's read is itself recorded.
    own = only_entry(client, response)
    assert (own.actor_id, own.actor_role, own.action, own.patient_id, own.route) == (
        auditor_id,
        "auditor",
        "audit-read",
        None,
        LIST,
    )

    second = ok(
        client.get(
            LIST, params={"patient_id": x.patient_id, "page_size": 1, "page": 2}, headers=auditor
        )
    )
    assert (second["total"], [i["id"] for i in second["items"]]) == (2, [items[1]["id"]])
    mine = ok(client.get(LIST, params={"actor_id": auditor_id}, headers=auditor))
    assert {i["action"] for i in mine["items"]} == {"audit-read"}
    # The two reads above (this one is written as it is answered).
    assert mine["total"] == 2
    none = ok(
        client.get(
            LIST,
            params={"patient_id": y.patient_id, "action": "delete", "outcome": "success"},
            headers=auditor,
        )
    )
    assert none == {"items": [], "total": 0, "page": 1, "page_size": 50}


def test_the_list_filters_by_time(client: TestClient) -> None:
    x = seed(client, "X1", at("20+0"))
    _, auditor = user(client, Role.AUDITOR)
    before = now()
    read = client.get(f"/api/patients/{x.patient_id}")
    after = now() + dt.timedelta(seconds=1)
    where = {"patient_id": x.patient_id}
    window = {"since": before.isoformat(), "until": after.isoformat()}
    found = ok(client.get(LIST, params={**where, **window}, headers=auditor))
    assert [i["request_id"] for i in found["items"]] == [read.headers["X-Request-ID"]]
    assert (
        ok(client.get(LIST, params={**where, "since": after.isoformat()}, headers=auditor))["items"]
        == []
    )
    assert (
        ok(client.get(LIST, params={**where, "until": before.isoformat()}, headers=auditor))[
            "items"
        ]
        == []
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-03-02T10:00:00"}, "since"),  # no time zone
        ({"until": "2026-13-01T00:00:00Z"}, "until"),
        ({"since": "2026-03-02T10:00:00Z", "until": "2026-03-02T09:00:00Z"}, "until"),
        ({"since": "0001-01-01T00:00:00+14:00"}, "since"),  # before year 1 in UTC
        ({"until": "9999-12-31T23:59:59-14:00"}, "until"),  # after year 9999 in UTC
        ({"outcome": "maybe"}, "outcome"),
        ({"patient_id": "p" * 37}, "patient_id"),
        ({"page": "0"}, "page"),
    ],
)
def test_bad_filters_answer_422_naming_the_parameter(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    _, auditor = user(client, Role.AUDITOR)
    for path in (LIST, EXPORT) if field != "page" else (LIST,):
        answer = client.get(path, params=params, headers=auditor)
        assert answer.status_code == 422, answer.text
        assert [e["loc"] for e in answer.json()["detail"]] == [["query", field]]


# --- the NDJSON export --------------------------------------------------------------------------


def test_the_ndjson_export_holds_valid_r4_audit_events(client: TestClient) -> None:
    x = seed(client, "X1", at("20+0"))
    clinician_id = ok(client.get("/auth/me"))["id"]
    _, auditor = user(client, Role.AUDITOR)
    since = now().isoformat()
    read = client.get(f"/api/patients/{x.patient_id}")
    exported = client.get(f"/fhir/Patient/{x.patient_id}/$everything")
    with signed_out(client):
        anonymous = client.get(f"/api/patients/{x.patient_id}")

    lines = ndjson(client.get(EXPORT, params={"patient_id": x.patient_id}, headers=auditor))
    for line in lines:
        valid(line)
    assert [line["id"] for line in lines] == sorted((line["id"] for line in lines), key=int)
    assert [line["id"] for line in lines] == [
        str(only_entry(client, r).id) for r in (read, exported)
    ]
    first = lines[0]
    assert first["type"]["code"] == "110110"
    assert first["type"]["system"] == "http://dicom.nema.org/resources/ontology/DCM"
    assert (first["action"], first["outcome"]) == ("R", "0")
    assert first["agent"][0]["who"]["identifier"] == {
        "system": "urn:cervixwatch:user",
        "value": clinician_id,
    }
    assert first["agent"][0]["requestor"] is True
    assert first["agent"][0]["network"]["type"] == "2"
    assert first["source"]["observer"] == {"display": "CervixWatch"}
    assert first["entity"][0]["what"] == {"reference": f"Patient/{x.patient_id}"}
    assert first["entity"][1]["name"] == f"GET /api/patients/{x.patient_id}"
    assert lines[1]["type"]["code"] == "110106"  # Export

    # Entries with no one signed in and no woman found export as well.
    since_lines = ndjson(client.get(EXPORT, params={"since": since}, headers=auditor))
    for line in since_lines:
        valid(line)
    refused = next(
        line for line in since_lines if line["id"] == str(only_entry(client, anonymous).id)
    )
    assert "who" not in refused["agent"][0]
    assert refused["outcome"] == "4"


def test_the_export_reads_the_log_in_batches(client: TestClient) -> None:
    x = seed(client, "X1", at("20+0"))
    requests = [client.get(f"/api/patients/{x.patient_id}") for _ in range(5)]
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        rows = list(iter_events(session, AuditFilter(patient_id=x.patient_id), batch=2))
        assert len(session.identity_map) == 0  # nothing kept
    assert [r.request_id for r in rows] == [r.headers["X-Request-ID"] for r in requests]


# --- the FHIR facade ----------------------------------------------------------------------------


def test_fhir_search_and_read_of_audit_events(client: TestClient) -> None:
    x = seed(client, "X1", at("20+0"))
    clinician_id = ok(client.get("/auth/me"))["id"]
    _, auditor = user(client, Role.AUDITOR)
    start = (now() - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reads = [client.get(f"/api/patients/{x.patient_id}") for _ in range(3)]
    ids = [str(only_entry(client, r).id) for r in reads]
    headers = {**auditor, "Accept": FHIR_JSON}

    found = client.get(
        SEARCH, params={"patient": f"Patient/{x.patient_id}", "_count": 2}, headers=headers
    )
    bundle = ok(found)
    assert found.headers["content-type"].startswith(FHIR_JSON)
    assert (bundle["resourceType"], bundle["type"], bundle["total"]) == ("Bundle", "searchset", 3)
    assert [e["resource"]["id"] for e in bundle["entry"]] == ids[::-1][:2]
    for entry in bundle["entry"]:
        valid(entry["resource"])
        assert entry["fullUrl"].endswith(f"/fhir/AuditEvent/{entry['resource']['id']}")
    following = next(link["url"] for link in bundle["link"] if link["relation"] == "next")
    rest = ok(client.get(following, headers=headers))
    assert [e["resource"]["id"] for e in rest["entry"]] == [ids[0]]

    def total(**params: str) -> int:
        return int(ok(client.get(SEARCH, params=params, headers=headers))["total"])

    assert total(patient=x.patient_id, agent=clinician_id) == 3
    assert total(patient=x.patient_id, agent="someone-else") == 0
    assert total(patient=x.patient_id, date=f"ge{start}") == 3
    assert total(patient=x.patient_id, date=f"lt{start}") == 0
    assert total(patient=x.patient_id, date="lt2000-01-01") == 0
    assert total(patient=x.patient_id, date=now().strftime("%Y-%m")) == 3
    assert total(patient=x.patient_id, date=f"gt{now().year}") == 0

    one = client.get(f"{SEARCH}/{ids[0]}", headers=headers)
    resource = valid(ok(one))
    assert (resource["resourceType"], resource["id"], resource["action"]) == (
        "AuditEvent",
        ids[0],
        "R",
    )
    assert only_entry(client, one).action == "audit-read"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        (f"{SEARCH}?date=yesterday", 400, "value"),
        (f"{SEARCH}?date=ne2026-03-02", 400, "not-supported"),
        (f"{SEARCH}?date=2026-03-02T10:00:00", 400, "value"),  # no time zone
        (f"{SEARCH}?name=Smith", 400, "not-supported"),
        (f"{SEARCH}?patient=a,b", 400, "not-supported"),
        (f"{SEARCH}?_count=-1", 400, "value"),
        (f"{SEARCH}/999999999999", 404, "not-found"),
        (f"{SEARCH}/not-a-number", 404, "not-found"),
        (f"{SEARCH}/{'9' * 5000}", 404, "not-found"),
        (f"{SEARCH}/\u00b2", 404, "not-found"),
        (f"{SEARCH}?_count=\u00b2", 400, "value"),
    ],
)
def test_fhir_errors_are_operation_outcomes(
    client: TestClient, path: str, status: int, code: str
) -> None:
    _, auditor = user(client, Role.AUDITOR)
    answer = client.get(path, headers=auditor)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(FHIR_JSON)
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == code
    assert "Smith" not in answer.text


# --- completeness: one entry per access ---------------------------------------------------------


def test_every_access_leaves_exactly_one_entry(client: TestClient) -> None:
    """Each kind of access, and the entry it must leave: who, about whom, what, how it ended,
    and the AuditEvent action code it exports as."""
    x = seed(client, "X1", at("20+0"))
    clinician_id = ok(client.get("/auth/me"))["id"]
    other_id, other = user(client, Role.CLINICIAN, teams=(OTHER_TEAM,))
    _, auditor = user(client, Role.AUDITOR)
    kind = next(k for k in KINDS if k.collection == "maternal-conditions")
    mine = clinician_id
    pid = x.patient_id

    def created_id(response: Response) -> str:
        return str(ok(response, 201)["id"])

    read = client.get(f"/api/patients/{pid}")
    listed = client.get("/api/patients", params={"search": "Jane Secret"})
    registered = client.post("/api/patients", json={"hospital_number": "NEW-1"})
    created = client.post(f"/api/patients/{pid}/{kind.collection}", json=kind.create)
    record_url = f"/api/{kind.collection}/{created_id(created)}"
    updated = client.patch(record_url, params={"reason": "typo"}, json=kind.update)
    deleted = client.delete(record_url, params={"reason": "wrong woman"})
    imported = post_bundle(client, fb.bundle(fb.edd()))
    # Written in the import's own transaction when it succeeds: refused, that entry is rolled
    # back with the import, and the refusal is recorded instead, once.
    no_identifier = {"resourceType": "Patient", "name": [{"family": "Secret"}]}
    rejected = client.post(
        "/fhir",
        content=orjson.dumps(
            {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": no_identifier}]}
        ),
        headers={"Content-Type": "application/fhir+json"},
    )
    exported = client.get(f"/fhir/Patient/{pid}/$everything")
    refused = client.get(f"/api/patients/{pid}", headers=other)
    with signed_out(client):
        anonymous = client.get(f"/api/patients/{pid}")

    imported_id = ok(imported)["entry"][0]["response"]["location"].removeprefix("Patient/")
    expected = [
        # response, actor, woman, action, outcome, status, AuditEvent action
        (read, mine, pid, "read", AuditOutcome.SUCCESS, 200, "R"),
        (listed, mine, None, "search", AuditOutcome.SUCCESS, 200, "E"),
        (registered, mine, ok(registered, 201)["id"], "create", AuditOutcome.SUCCESS, 201, "C"),
        (created, mine, pid, "write", AuditOutcome.SUCCESS, 201, "C"),
        (updated, mine, pid, "write", AuditOutcome.SUCCESS, 200, "U"),
        (deleted, mine, pid, "delete", AuditOutcome.SUCCESS, 204, "D"),
        (imported, mine, imported_id, "import", AuditOutcome.SUCCESS, 200, "C"),
        (rejected, mine, None, "import", AuditOutcome.INVALID, 422, "C"),
        (exported, mine, pid, "export", AuditOutcome.SUCCESS, 200, "R"),
        # Another team's clinician is told "not found"; who tried to reach whom is kept.
        (refused, other_id, pid, "read", AuditOutcome.DENIED, 404, "R"),
        (anonymous, None, None, "read", AuditOutcome.DENIED, 401, "R"),
    ]
    for response, actor, woman, action, outcome, status, code in expected:
        assert response.status_code == status, response.text
        entry = only_entry(client, response)
        said = f"{response.request.method} {response.request.url.path}"
        assert (entry.actor_id, entry.patient_id, entry.action) == (actor, woman, action), said
        assert (entry.outcome, entry.status) == (outcome, status), said
        assert entry.method == response.request.method, said
        assert entry.path == response.request.url.path, said
        # Query values (a search may hold a name) are never stored.
        assert "Secret" not in " ".join(str(v) for v in vars(entry).values()), said
        event = valid(ok(client.get(f"{SEARCH}/{entry.id}", headers=auditor)))
        assert event["action"] == code, said


# --- append-only ---------------------------------------------------------------------------------


def _columns(row: AuditEventRow) -> dict[str, Any]:
    return {c.name: getattr(row, c.name) for c in AuditEventRow.__table__.columns}


def test_the_database_refuses_to_change_or_delete_entries(engine: Engine) -> None:
    sessions = session_factory(engine)
    request_id = f"append-only-{now().timestamp()}"
    record(
        engine,
        AuditEntry(
            action="read",
            method="GET",
            route="/api/patients/{patient_id}",
            path="/api/patients/p-1",
            status=200,
            request_id=request_id,
            actor_id="u-1",
            patient_id="p-1",
        ),
    )
    mine = select(AuditEventRow).where(AuditEventRow.request_id == request_id)
    with sessions() as session:
        before = _columns(session.scalars(mine).one())
        total = session.scalar(select(func.count()).select_from(AuditEventRow))

    attempts = [
        update(AuditEventRow)
        .where(AuditEventRow.request_id == request_id)
        .values(actor_id="someone-else"),
        update(AuditEventRow).values(outcome=AuditOutcome.FAILED),
        delete(AuditEventRow).where(AuditEventRow.request_id == request_id),
        delete(AuditEventRow),
    ]
    for statement in attempts:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(statement)
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.exec_driver_sql("TRUNCATE audit_events")

    with sessions() as session:
        assert _columns(session.scalars(mine).one()) == before
        assert session.scalar(select(func.count()).select_from(AuditEventRow)) == total


def test_the_log_is_left_alone_by_clearing_clinical_data(client: TestClient) -> None:
    """A woman's deletion leaves the record of who read her file (no foreign keys)."""
    x = seed(client, "X1", at("20+0"))
    read = client.get(f"/api/patients/{x.patient_id}")
    delete_everything(client.app.state.engine)  # type: ignore[attr-defined]
    assert only_entry(client, read).patient_id == x.patient_id


def test_the_account_an_admin_changed_is_an_entity_of_the_event() -> None:
    row = AuditEventRow(
        id=8,
        recorded_at=dt.datetime(2026, 3, 2, 9, 31, tzinfo=dt.UTC),
        actor_id="admin-1",
        actor_role="admin",
        via="session",
        action="access-grant",
        method="PATCH",
        route="/api/admin/users/{username}",
        path="/api/admin/users/{username}",
        patient_id=None,
        client_address="127.0.0.1",
        outcome=AuditOutcome.SUCCESS,
        status=200,
        request_id="r-2",
        target_user_id="user-42",
    )
    resource = valid(audit_event_resource(row, "https://cw.example/fhir"))
    [target] = [e for e in resource["entity"] if "what" in e]
    assert target["what"] == {"identifier": {"system": USER_SYSTEM, "value": "user-42"}}
    assert target["role"]["code"] == "6"  # User
