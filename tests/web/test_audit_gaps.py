"""Every request to a governed route leaves an entry with its true outcome (issue 12, F6):
an unhandled failure (500), a rate-limited request (429), an anonymous page hit (a redirect
to sign in, recorded as the refusal it is), and a streamed export that fails part-way
(recorded as failed, not as the success its 200 began as)."""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from cervixwatch.app import patients as patient_use_cases
from cervixwatch.store.models import AuditOutcome, Role
from cervixwatch.web import audit as audit_middleware
from cervixwatch.web.api import audit as audit_routes
from cervixwatch.web.app import create_app
from cervixwatch.web.fhir import routes as fhir_routes
from tests.web.accounts import TEAM, bearer, make_user, test_settings
from tests.web.api_builders import at, ok, seed
from tests.web.conftest import TODAY
from tests.web.test_audit_log import entries, only_entry

FAMILY, GIVEN, BORN, NUMBER = "Quillfeather", "Ottoline", "1991-04-17", "GAPS0042"
SECRETS = (FAMILY, GIVEN, BORN, NUMBER)


def test_an_unhandled_failure_is_answered_500_recorded_and_logged_by_id_only(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """A real database error quoting her values (a unique violation on her hospital number:
    PostgreSQL's message names the key's value) answers 500 naming the request id, leaves
    one entry (failed, 500, her id), and is logged with frames and type only (F5 too)."""
    woman = {
        "hospital_number": NUMBER,
        "family_name": FAMILY,
        "given_name": GIVEN,
        "birth_date": BORN,
    }
    made = ok(client.post("/api/patients", json=woman), 201)

    def duplicate(*_args: Any, **_kwargs: Any) -> Any:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO patients (id, hospital_number, family_name, given_name,"
                    " birth_date, created_at) VALUES (:id, :number, :family, :given, :born,"
                    " CURRENT_TIMESTAMP)"
                ),
                {"id": "x" * 36, "number": NUMBER, "family": FAMILY, "given": GIVEN, "born": BORN},
            )

    monkeypatch.setattr(patient_use_cases, "get_patient", duplicate)
    caplog.set_level(logging.DEBUG)
    answer = client.get(f"/api/patients/{made['id']}")
    assert answer.status_code == 500
    request_id = answer.headers["X-Request-ID"]
    assert request_id in answer.text
    entry = only_entry(client, answer)
    assert (entry.action, entry.status, entry.outcome) == ("read", 500, AuditOutcome.FAILED)
    assert entry.patient_id == made["id"]
    assert "IntegrityError" in caplog.text
    assert request_id in caplog.text
    for value in SECRETS:
        assert value not in caplog.text, f"{value!r} in the log:\n{caplog.text}"
        assert value not in answer.text


def test_a_rate_limited_request_is_recorded_as_refused(engine: Engine) -> None:
    settings = test_settings(engine, api_rate_limit="2/minute")
    with TestClient(create_app(settings, today=lambda: TODAY)) as client:
        _, token = make_user(client, Role.CLINICIAN, teams=(TEAM,))
        client.headers.update(bearer(token))
        her = seed(client, "R1", at("20+0"))
        answers = [client.get(f"/api/patients/{her.patient_id}") for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        entry = only_entry(client, answers[2])
        assert (entry.action, entry.status, entry.outcome) == ("read", 429, AuditOutcome.DENIED)
        worklist = client.get("/api/worklist")
        assert worklist.status_code == 429
        assert only_entry(client, worklist).outcome == AuditOutcome.DENIED


def test_an_anonymous_page_hit_is_recorded_as_refused(client: TestClient) -> None:
    her = seed(client, "P1", at("20+0"))
    del client.headers["Authorization"]
    answer = client.get(f"/pregnancies/{her.pregnancy_id}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/sign-in?next=")
    entry = only_entry(client, answer)
    assert (entry.actor_id, entry.status, entry.outcome) == (None, 303, AuditOutcome.DENIED)


def _auditor(client: TestClient) -> dict[str, str]:
    return bearer(make_user(client, Role.AUDITOR)[1])


def test_a_streamed_export_is_recorded_once_it_has_ended(client: TestClient) -> None:
    her = seed(client, "S1", at("20+0"))
    ok(client.get(f"/api/patients/{her.patient_id}"))  # an entry to export
    answer = client.get("/api/audit-events.ndjson", headers=_auditor(client))
    assert answer.status_code == 200
    assert answer.text.count("\n") >= 1
    entry = only_entry(client, answer)
    assert (entry.action, entry.status, entry.outcome) == ("audit-read", 200, AuditOutcome.SUCCESS)


def test_a_streamed_export_that_fails_part_way_is_recorded_as_failed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    her = seed(client, "S2", at("20+0"))
    ok(client.get(f"/api/patients/{her.patient_id}"))  # an entry to export
    real = audit_routes._ndjson

    def dies_after_one_line(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        lines = cast(Generator[bytes], real(*args, **kwargs))
        try:
            yield next(lines)
        finally:
            lines.close()  # its session back to the pool, as a real failure inside would
        raise RuntimeError(f"lost the database while exporting {FAMILY}")

    monkeypatch.setattr(audit_routes, "_ndjson", dies_after_one_line)
    caplog.set_level(logging.DEBUG)
    answer = client.get("/api/audit-events.ndjson", headers=_auditor(client))
    assert answer.status_code == 200  # it had begun
    found = entries(client, answer.headers["X-Request-ID"])
    assert [(e.status, e.outcome) for e in found] == [(200, AuditOutcome.FAILED)]
    assert "RuntimeError" in caplog.text
    assert FAMILY not in caplog.text


def test_a_fhir_failure_is_an_operation_outcome(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """The FHIR facade answers its own failures (an OperationOutcome); they are recorded as
    failed, and logged without the exception's message (F5)."""
    caplog.set_level(logging.DEBUG)
    her = seed(client, "F1", at("20+0"))

    def fails(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"could not read {FAMILY}")

    monkeypatch.setattr(fhir_routes, "read_resource", fails)
    answer = client.get(f"/fhir/Patient/{her.patient_id}")
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("application/fhir+json")
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "exception"
    assert FAMILY not in answer.text
    assert only_entry(client, answer).outcome == AuditOutcome.FAILED
    assert "RuntimeError" in caplog.text
    assert FAMILY not in caplog.text


def test_an_entry_that_cannot_be_written_stops_the_answer(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """No access without its entry: when the entry cannot be written, the answer is a 500
    (not the data), and the failure is logged by request id and raised for the server."""
    her = seed(client, "W1", at("20+0"))

    def cannot_write(*_args: Any, **_kwargs: Any) -> None:
        raise OSError("the audit table is unreachable")

    monkeypatch.setattr(audit_middleware, "record", cannot_write)
    caplog.set_level(logging.DEBUG)
    quiet = TestClient(client.app, raise_server_exceptions=False)
    answer = quiet.get(f"/api/patients/{her.patient_id}", headers=dict(client.headers))
    assert answer.status_code == 500
    assert her.patient_id not in answer.text
    assert "could not be written" in caplog.text
    assert answer.headers["X-Request-ID"] in caplog.text
