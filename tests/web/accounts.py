"""Users for the web tests: every test client acts for a signed-in user (a clinician of
`TEAM` unless a test says otherwise), by a bearer token made straight through the use cases.

Users, teams and tokens outlive `delete_everything` (it empties the clinical tables), so
each is made under a fresh username."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.app import accounts
from cervixwatch.settings import Settings
from cervixwatch.store.models import Role

TEAM = "Test team"
PASSWORD = "correct horse battery staple"


def test_settings(engine: Engine, **overrides: Any) -> Settings:
    """Settings for an app on `engine`'s database; the API rate limit is out of the way
    (property tests send thousands of requests), unless a test sets it."""
    values: dict[str, Any] = {
        "database_url": engine.url.render_as_string(hide_password=False),
        "api_rate_limit": "1000000/minute",
        "sign_in_rate_limit": "1000000/minute",
        # TestClient's "testserver", nginx's name in tests/test_deployment.py: the Host check
        # has its own tests (tests/web/test_proxies_and_hosts.py).
        "allowed_hosts": ["*"],
        **overrides,
    }
    return Settings(**values)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def make_user(
    client: TestClient,
    role: Role = Role.CLINICIAN,
    *,
    teams: tuple[str, ...] = (),
    patient_id: str | None = None,
    password: str | None = PASSWORD,
) -> tuple[str, str]:
    """A new user (username, bearer token) of the app behind `client`."""
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    username = f"{role.value}-{uuid.uuid4().hex[:10]}"
    accounts.add_user(
        sessions, username, role, password=password, patient_id=patient_id, teams=teams
    )
    token = accounts.issue_token(sessions, username, "tests", days=1)
    return username, token.secret


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in_as_clinician(client: TestClient, team: str = TEAM) -> str:
    """Make `client` act for a new clinician of `team`; returns her username."""
    username, token = make_user(client, Role.CLINICIAN, teams=(team,))
    client.headers.update(bearer(token))
    return username


def under_team(client: TestClient, patient_id: str, team: str = TEAM) -> None:
    """Put a woman stored behind the API's back under the care of `team`."""
    accounts.assign_patient(client.app.state.sessions, team, patient_id)  # type: ignore[attr-defined]
