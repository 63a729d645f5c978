"""Helpers for the FHIR facade's tests: posting Bundles, reading OperationOutcomes, counting
rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine

from cervixwatch.store.database import session_factory
from cervixwatch.web.app import create_app
from tests.store.tables import delete_everything, row_counts
from tests.web.accounts import sign_in_as_clinician, test_settings
from tests.web.conftest import TODAY

FHIR_JSON = "application/fhir+json"
HEADERS = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}


#: A day after every finding of every scenario (tests/scenarios, the latest 2026-08-15): the
#: app's today where they are imported, since the import refuses a finding dated after today
#: (issue 12, F8) and the scenarios hold what is known on their own days.
SCENARIOS_TODAY = dt.date(2026, 9, 1)


class Clock:
    """The app's today (`TODAY` unless a test moves it)."""

    def __init__(self, day: dt.date = TODAY) -> None:
        self.day = day

    def __call__(self) -> dt.date:
        return self.day


@contextmanager
def shared_app(engine: Engine, clock: Clock | None = None) -> Iterator[TestClient]:
    """A client of one app on `engine`'s database (clock at `TODAY`, or `clock`), for a whole
    module: the app keeps no state between requests, and starting one per test costs more
    than the test."""
    with TestClient(create_app(test_settings(engine), today=clock or (lambda: TODAY))) as client:
        sign_in_as_clinician(client)
        yield client


@contextmanager
def emptied(engine: Engine, client: TestClient) -> Iterator[TestClient]:
    """`client`, with the database emptied before and after."""
    delete_everything(engine)
    try:
        yield client
    finally:
        delete_everything(engine)


def post_bundle(client: TestClient, bundle: dict[str, Any] | bytes) -> Response:
    body = bundle if isinstance(bundle, bytes) else orjson.dumps(bundle)
    return client.post("/fhir", content=body, headers=HEADERS)


def imported(response: Response) -> str:
    """The id of the woman a successful import stored her records under."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    answer = response.json()
    assert answer["resourceType"] == "Bundle"
    assert answer["type"] == "transaction-response"
    location: str = answer["entry"][0]["response"]["location"]
    assert location.startswith("Patient/")
    return location.removeprefix("Patient/")


def import_ok(client: TestClient, bundle: dict[str, Any] | bytes) -> str:
    return imported(post_bundle(client, bundle))


def issue(response: Response, status: int) -> dict[str, Any]:
    """The one error issue of an OperationOutcome answer with `status`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    first: dict[str, Any] = outcome["issue"][0]
    assert first["severity"] == "error"
    assert first["diagnostics"]
    return first


def counts(engine: Engine) -> dict[str, int]:
    return row_counts(session_factory(engine))


def everything(client: TestClient, patient_id: str) -> dict[str, Any]:
    response = client.get(f"/fhir/Patient/{patient_id}/$everything", headers=HEADERS)
    assert response.status_code == 200, response.text
    bundle: dict[str, Any] = response.json()
    return bundle


def resources(bundle: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in bundle.get("entry", [])
        if kind is None or e["resource"]["resourceType"] == kind
    ]
