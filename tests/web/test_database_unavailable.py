"""A database that cannot be reached is a 503 with `Retry-After`, never a 500 (issue 12, low
finding): for real, on a served app (Uvicorn over HTTP) whose PostgreSQL database stops
taking connections (ALLOW_CONNECTIONS false) and has every connection it had terminated
(pg_terminate_backend). The FHIR facade answers an OperationOutcome, the JSON API its
`{"detail": ...}`, a browser a page; /readyz says so, /healthz still answers; once the
database is back, so is the service. A database host that never answers fails within
seconds."""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from cervixwatch.app import accounts
from cervixwatch.app.operations import database_unavailable, readiness
from cervixwatch.store.database import CONNECT_TIMEOUT_SECONDS, make_engine, session_factory
from cervixwatch.store.migrate import upgrade
from cervixwatch.store.models import Role
from tests.conftest import TEST_DATABASE_VARIABLE, throwaway_postgres
from tests.web.live_server import served

RECOVERY_SECONDS = 10


def _ask(
    base: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    where = urlsplit(base)
    connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read().decode()
    finally:
        connection.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    server_url = os.environ.get(TEST_DATABASE_VARIABLE)
    if not server_url:
        pytest.skip(f"needs PostgreSQL ({TEST_DATABASE_VARIABLE})")
    with throwaway_postgres(server_url) as url:
        upgrade(url)
        yield url


def _cut_off(admin: Engine, database: str, allow: bool) -> None:
    """Let the database take connections again, or refuse new ones and end those it has."""
    with admin.connect() as connection:
        flag = "true" if allow else "false"
        connection.exec_driver_sql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {flag}')
        if not allow:
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
            )


def test_an_unreachable_database_is_answered_503_with_retry_after(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    sessions = session_factory(engine)
    accounts.add_user(sessions, "outage-clinician", Role.CLINICIAN, teams=("Outage team",))
    token = accounts.issue_token(sessions, "outage-clinician", "tests", days=1).secret
    signed = {"Authorization": f"Bearer {token}"}
    database = make_url(postgres_url).database or ""
    admin = create_engine(os.environ[TEST_DATABASE_VARIABLE], isolation_level="AUTOCOMMIT")
    try:
        with served(engine) as base:
            assert _ask(base, "/readyz")[0] == 200
            assert _ask(base, "/api/patients", signed)[0] == 200
            _cut_off(admin, database, allow=False)
            try:
                ready = _ask(base, "/readyz")
                api = _ask(base, "/api/patients", signed)
                fhir = _ask(base, "/fhir/Patient", signed)
                page = _ask(base, "/worklist", {"Accept": "text/html"})
                health = _ask(base, "/healthz")
            finally:
                _cut_off(admin, database, allow=True)
            deadline = time.monotonic() + RECOVERY_SECONDS
            while _ask(base, "/readyz")[0] != 200:
                assert time.monotonic() < deadline, "not ready again after the database came back"
                time.sleep(0.2)
            assert _ask(base, "/api/patients", signed)[0] == 200
    finally:
        admin.dispose()
        engine.dispose()

    for status, headers, _ in (ready, api, fhir, page):
        assert status == 503, (ready[0], api[0], fhir[0], page[0])
        assert headers["retry-after"] == "5"
    assert json.loads(ready[2]) == {"status": "not ready", "database": "unreachable"}
    assert "the database cannot be reached" in json.loads(api[2])["detail"]
    assert api[1]["content-type"] == "application/json"
    outcome = json.loads(fhir[2])
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "transient"
    assert fhir[1]["content-type"] == "application/fhir+json"
    assert page[1]["content-type"].startswith("text/html")
    assert "unavailable for a moment" in page[2]
    assert fhir[1]["x-request-id"] in outcome["issue"][0]["diagnostics"]
    # Nothing of the failure: no database name, no driver's message.
    for _, _, body in (ready, api, fhir, page):
        assert database not in body
        assert "psycopg" not in body.lower()
    assert health[0] == 200


def test_a_database_host_that_never_answers_fails_within_seconds() -> None:
    """A host that takes the connection and then says nothing (a hung server, a firewall
    that swallows the traffic): the connection fails after `CONNECT_TIMEOUT_SECONDS`, as an
    unavailable database, and /readyz's check says unreachable instead of hanging."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; no one ever answers
        port = silent.getsockname()[1]
        engine = make_engine(f"postgresql+psycopg://cervixwatch@127.0.0.1:{port}/cervixwatch")
        try:
            started = time.monotonic()
            found = readiness(engine)
            waited = time.monotonic() - started
            with pytest.raises(OperationalError) as raised:
                engine.connect()
        finally:
            engine.dispose()
    assert not found.database
    assert CONNECT_TIMEOUT_SECONDS - 1 <= waited < CONNECT_TIMEOUT_SECONDS + 5
    assert database_unavailable(raised.value)
