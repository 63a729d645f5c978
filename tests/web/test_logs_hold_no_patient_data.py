"""Logs carry ids, never names or clinical values (issue 12, F5): the access log of a real
`cervixwatch serve` shows no query string and no username, and a database error's log holds
neither the statement's parameters nor the values the database quotes in its message."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from cervixwatch.app import accounts
from cervixwatch.store.database import make_engine, session_factory
from cervixwatch.store.migrate import upgrade
from cervixwatch.store.models import Role
from cervixwatch.web.logs import scrubbed_traceback
from tests.log_watch import LogWatch
from tests.server_process import clean_environment, free_port

FAMILY, GIVEN, BORN, NUMBER = "Quillfeather", "Ottoline", "1991-04-17", "LOGS0042"
SECRETS = (FAMILY, GIVEN, BORN, NUMBER, "1991", "Quill", "Ottol")
STARTUP_SECONDS = 60


def _http(method: str, url: str, token: str, body: Any = None) -> int:
    request = urllib.request.Request(
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def _accounts(database: Path) -> tuple[str, str, str]:
    """A clinician's token, an admin's token and the username of a third account."""
    url = f"sqlite:///{database}"
    upgrade(url)
    engine = make_engine(url)
    try:
        sessions = session_factory(engine)
        accounts.add_user(sessions, "logs-clinician", Role.CLINICIAN, teams=("Logs team",))
        accounts.add_user(sessions, "logs-admin", Role.ADMIN)
        accounts.add_user(sessions, "ottoline.quillfeather", Role.AUDITOR)
        clinician = accounts.issue_token(sessions, "logs-clinician", "tests", days=1).secret
        admin = accounts.issue_token(sessions, "logs-admin", "tests", days=1).secret
    finally:
        engine.dispose()
    return clinician, admin, "ottoline.quillfeather"


def test_the_access_log_of_a_real_server_holds_no_query_values_or_usernames(
    tmp_path: Path,
) -> None:
    database = tmp_path / "logs.db"
    clinician, admin, username = _accounts(database)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        *(sys.executable, "-c", "from cervixwatch.cli import app; app()", "serve"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        *("--database-url", f"sqlite:///{database}", "--log-level", "info"),
    ]
    with subprocess.Popen(
        command,
        env=clean_environment(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as server:
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                try:
                    urllib.request.urlopen(f"{base}/fhir/metadata", timeout=2).close()
                    break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    assert time.monotonic() < deadline
                    assert server.poll() is None
                    time.sleep(0.2)
            woman = {
                "hospital_number": NUMBER,
                "family_name": FAMILY,
                "given_name": GIVEN,
                "birth_date": BORN,
            }
            assert _http("POST", f"{base}/api/patients", clinician, woman) == 201
            searches = (
                f"/fhir/Patient?family={FAMILY}&given={GIVEN}&birthdate={BORN}",
                f"/fhir/Patient?identifier={NUMBER}",
                f"/api/patients?search={FAMILY}+{NUMBER}",
                f"/worklist?q={FAMILY}",
            )
            for path in searches:
                assert _http("GET", base + path, clinician) == 200, path
            changed = _http(
                "PATCH", f"{base}/api/admin/users/{username}", admin, {"disabled": True}
            )
            assert changed == 200
        finally:
            server.send_signal(signal.SIGINT)
            try:
                output, _ = server.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                output, _ = server.communicate()
    log = output.decode(errors="replace")
    # The lines are there, with their routes...
    assert '"GET /fhir/Patient HTTP/1.1" 200' in log, log
    assert '"PATCH /api/admin/users/{username} HTTP/1.1" 200' in log, log
    # ... and nothing of the woman or of the account.
    for value in (*SECRETS, "ottoline", "family=", "search=", "q=", "identifier="):
        assert value not in log, f"{value!r} in the server's log:\n{log}"


def test_exceptions_logged_anywhere_lose_their_messages(
    client: TestClient, engine: Engine, caplog: Any
) -> None:
    """What any logger (Uvicorn's "Exception in ASGI application", SQLAlchemy's pool) logs
    with an exception: the statement's parameters are hidden by the engine, and the message,
    which may quote a value, is withheld."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(IntegrityError) as raised, engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, username, role, disabled, failed_sign_ins, created_at)"
                " VALUES (:id, :name, 'auditor', false, 0, CURRENT_TIMESTAMP)"
            ),
            [{"id": "y" * 36, "name": NUMBER}, {"id": "z" * 36, "name": NUMBER}],
        )
    assert "parameters hidden" in str(raised.value).lower() or NUMBER not in str(raised.value)
    logging.getLogger("uvicorn.error").error("Exception in ASGI application", exc_info=raised.value)
    assert "IntegrityError" in caplog.text
    assert NUMBER not in caplog.text
    assert NUMBER not in scrubbed_traceback(raised.value)


def test_the_suite_wide_watch_would_see_patient_data() -> None:
    """The session-wide check of `tests/conftest.py` is worth something only if it can fail."""
    watch = LogWatch()
    log = logging.getLogger("cervixwatch.test_watch")
    log.addHandler(watch)
    log.propagate = False  # not to the session's own watch, which would fail the session
    try:
        log.warning("request r-1 read patient 0b5e")
        assert watch.found == []
        log.warning("imported %s", "DEMO000042")
        log.warning("matched %s", "Ada Sample")
        log.warning('entry {"family": "Placeholder", "given": ["Zoe"]}')
    finally:
        log.removeHandler(watch)
        log.propagate = True
    assert len(watch.found) == 3
