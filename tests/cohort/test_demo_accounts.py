"""`cervixwatch demo-accounts` (what `make demo` runs after loading the cohort): one user of
each role on a small demo cohort, whose printed credentials sign in through the web app, run
after run; refused on a database that is not the demo's."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cervixwatch.cli import app
from cervixwatch.demo import load_demo_database
from cervixwatch.settings import Settings
from cervixwatch.store import accounts as account_store
from cervixwatch.store import make_engine, session_factory
from cervixwatch.store.models import PatientRow
from cervixwatch.web.app import create_app

WOMEN = 12
AS_OF = dt.date(2026, 3, 2)
APP_URL = "http://127.0.0.1:8123"

runner = CliRunner()


def demo_accounts(url: str) -> dict[str, tuple[str, str]]:
    """Run the command; returns what it printed as {role: (username, password)}."""
    result = runner.invoke(app, ["demo-accounts", "--database-url", url, "--app-url", APP_URL])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"POST {APP_URL}/auth/sign-in" in result.stdout
    header = next(
        i for i, line in enumerate(lines) if line.split()[:3] == ["ROLE", "USERNAME", "PASSWORD"]
    )
    return {line.split()[0]: (line.split()[1], line.split()[2]) for line in lines[header + 1 :]}


def sign_in(client: TestClient, username: str, password: str) -> int:
    browser = TestClient(client.app)
    answer = browser.post("/auth/sign-in", json={"username": username, "password": password})
    return answer.status_code


def first_active_woman(sessions: sessionmaker[Session]) -> str:
    with sessions() as session:
        women = account_store.patients_for_linking(session)
    return next(patient_id for patient_id, _, active, _ in women if active)


def test_demo_accounts_sign_in_and_new_runs_give_new_passwords(empty_url: str) -> None:
    load_demo_database(empty_url, WOMEN, 7, AS_OF, Console(quiet=True))
    first = demo_accounts(empty_url)
    assert {role: user for role, (user, _) in first.items()} == {
        "clinician": "clinician",
        "patient": "patient",
        "admin": "admin",
        "auditor": "auditor",
        "quality-lead": "quality",
    }
    settings = Settings(
        database_url=empty_url, sign_in_rate_limit="1000000/minute", allowed_hosts=["testserver"]
    )
    engine = make_engine(empty_url)
    try:
        sessions = session_factory(engine)
        with TestClient(create_app(settings, today=lambda: AS_OF)) as client:
            for role, (username, password) in first.items():
                answer = client.post(
                    "/auth/sign-in", json={"username": username, "password": password}
                )
                assert answer.status_code == 200, answer.text
                assert answer.json()["role"] == role
                if role == "patient":
                    her = first_active_woman(sessions)
                    assert answer.json()["patient_id"] == her
                    assert client.get(f"/api/patients/{her}").status_code == 200
                if role == "clinician":
                    assert client.get("/api/patients").json()["total"] == WOMEN
                client.cookies.clear()

            second = demo_accounts(empty_url)
            for role, (username, password) in second.items():
                assert password != first[role][1]
                assert sign_in(client, username, first[role][1]) == 401
                assert sign_in(client, username, password) == 200
        with sessions() as session:
            patient = account_store.user_by_username(session, "patient")
            assert patient is not None
            assert patient.patient_id == first_active_woman(sessions)
    finally:
        engine.dispose()


def test_demo_accounts_are_refused_off_the_demo_database(empty_url: str) -> None:
    empty = runner.invoke(app, ["demo-accounts", "--database-url", empty_url])
    assert empty.exit_code == 2
    assert "load the demo cohort first" in empty.stderr

    load_demo_database(empty_url, 3, 7, AS_OF, Console(quiet=True))
    engine = make_engine(empty_url)
    try:
        with session_factory(engine).begin() as session:
            session.add(PatientRow(hospital_number="MRN-REAL-1"))
    finally:
        engine.dispose()
    refused = runner.invoke(app, ["demo-accounts", "--database-url", empty_url])
    assert refused.exit_code == 2
    assert "not synthetic demo patients" in refused.stderr
    assert refused.stdout == ""
