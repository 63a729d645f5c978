"""Issue 12 (a low finding): the same new woman's Bundle sent by 8 clients at once answered 409
to most of them although one had stored her. Now every one succeeds: an import that loses the
race to register her reads her again as a woman stored. Over real HTTP (Uvicorn), on SQLite and
PostgreSQL (where the transactions truly overlap)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx2 as httpx
import orjson
import pytest
from sqlalchemy import Engine

from cervixwatch.app import accounts
from cervixwatch.store.database import session_factory
from cervixwatch.store.models import Role
from tests import fhir_builders as fb
from tests.store.tables import delete_everything, row_counts
from tests.web import live_server
from tests.web.accounts import TEAM

CLIENTS = 8


@pytest.fixture
def served(engine: Engine) -> Iterator[tuple[str, str]]:
    delete_everything(engine)
    sessions = session_factory(engine)
    username = f"feed-{time.monotonic_ns()}"
    accounts.add_user(sessions, username, Role.CLINICIAN, password=None, teams=(TEAM,))
    token = accounts.issue_token(sessions, username, "feed", days=1).secret
    try:
        with live_server.served(engine) as base:
            yield base, token
    finally:
        delete_everything(engine)


def test_the_same_new_woman_from_eight_clients_at_once(
    served: tuple[str, str], engine: Engine
) -> None:
    base, token = served
    bundle = fb.v01_bundle()
    bundle["entry"][0]["resource"]["identifier"] = [{"system": "urn:oid:1.2.3", "value": "RACE-1"}]
    body = orjson.dumps(bundle)
    start = threading.Barrier(CLIENTS)
    answers: list[int] = []

    def send() -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            start.wait()
            response = client.post(
                "/fhir",
                content=body,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/fhir+json",
                },
            )
            answers.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * CLIENTS
    counts = row_counts(session_factory(engine))
    assert counts["patients"] == 1
    assert counts["cervical_lengths"] == 1  # the one length of the Bundle, stored once
