"""API tokens end with the account's other ways in, and are made only after
re-authentication, for a bounded time (issue 12, F3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from cervixwatch.app import accounts
from cervixwatch.app.errors import InvalidField
from cervixwatch.store.models import ApiTokenRow, Role, SignInSessionRow, UserRow
from cervixwatch.web.access import CSRF_HEADER
from cervixwatch.web.app import create_app
from tests.store.tables import delete_everything
from tests.web.accounts import PASSWORD, TEAM, bearer, make_user, test_settings
from tests.web.api_builders import ok
from tests.web.conftest import TODAY

NEW_PASSWORD = "a much longer new passphrase"
THRESHOLD = 3


@pytest.fixture
def app_client(engine: Engine) -> Iterator[TestClient]:
    """An anonymous client of an app that backs off after 3 wrong passwords."""
    delete_everything(engine)
    settings = test_settings(engine, lockout_threshold=THRESHOLD)
    with TestClient(create_app(settings, today=lambda: TODAY)) as client:
        yield client
    delete_everything(engine)


def _works(client: TestClient, token: str) -> bool:
    return client.get("/auth/me", headers=bearer(token)).status_code == 200


def _browser(client: TestClient, username: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    """A browser signed in as `username`, and its CSRF token."""
    browser = TestClient(client.app)
    me = ok(browser.post("/auth/sign-in", json={"username": username, "password": password}))
    return browser, me["csrf_token"]


# --- revoked with the account's other ways in ---------------------------------------------------


def test_a_password_reset_revokes_her_tokens(app_client: TestClient) -> None:
    username, token = make_user(app_client, Role.CLINICIAN, teams=(TEAM,))
    sessions = app_client.app.state.sessions  # type: ignore[attr-defined]
    assert _works(app_client, token)
    accounts.reset_password(sessions, username, NEW_PASSWORD)
    assert not _works(app_client, token)
    with sessions() as session:
        user_id = session.query(UserRow).filter_by(username=username).one().id
        listed = session.query(ApiTokenRow).filter_by(user_id=user_id).all()
        assert [t.revoked_at is not None for t in listed] == [True]


def test_disabling_revokes_her_tokens_for_good(app_client: TestClient) -> None:
    username, token = make_user(app_client, Role.CLINICIAN, teams=(TEAM,))
    sessions = app_client.app.state.sessions  # type: ignore[attr-defined]
    accounts.set_disabled(sessions, username, True)
    accounts.set_disabled(sessions, username, False)
    assert not _works(app_client, token)  # enabling her again revives no token


def test_a_locked_accounts_tokens_stop_working(app_client: TestClient) -> None:
    username, token = make_user(app_client, Role.CLINICIAN, teams=(TEAM,))
    sessions = app_client.app.state.sessions  # type: ignore[attr-defined]
    app_client.app.state.token_cache.forget()  # type: ignore[attr-defined]
    with sessions.begin() as session:
        session.execute(
            update(UserRow)
            .where(UserRow.username == username)
            .values(locked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        )
    assert not _works(app_client, token)


# --- made only after re-authentication, for a bounded time ---------------------------------------


def test_a_token_needs_the_password_again(app_client: TestClient) -> None:
    username, _ = make_user(app_client, Role.CLINICIAN, teams=(TEAM,))
    browser, csrf = _browser(app_client, username)
    headers = {CSRF_HEADER: csrf}
    # The cookie alone (a stolen sign-in) does not make a token.
    refused = browser.post("/api/tokens", json={"name": "ehr"}, headers=headers)
    assert refused.status_code == 403
    assert "password" in refused.json()["detail"]
    wrong = browser.post(
        "/api/tokens", json={"name": "ehr", "password": "not the password"}, headers=headers
    )
    assert wrong.status_code == 403
    made = ok(
        browser.post("/api/tokens", json={"name": "ehr", "password": PASSWORD}, headers=headers),
        201,
    )
    assert _works(app_client, made["token"])
    assert "not the password" not in wrong.text


def test_wrong_passwords_while_making_tokens_back_off(app_client: TestClient) -> None:
    username, _ = make_user(app_client, Role.CLINICIAN, teams=(TEAM,))
    browser, csrf = _browser(app_client, username)
    headers = {CSRF_HEADER: csrf}
    for _ in range(THRESHOLD):
        answer = browser.post(
            "/api/tokens", json={"name": "x", "password": "not the password"}, headers=headers
        )
        assert answer.status_code == 403
    waits = browser.post("/api/tokens", json={"name": "x", "password": PASSWORD}, headers=headers)
    assert waits.status_code == 429
    assert int(waits.headers["retry-after"]) >= 1


def test_a_token_lasts_at_most_the_maximum(app_client: TestClient) -> None:
    username, token = make_user(app_client, Role.CLINICIAN, teams=(TEAM,))
    headers = bearer(token)
    too_long = app_client.post(
        "/api/tokens", json={"name": "ehr", "days": 366, "password": PASSWORD}, headers=headers
    )
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["body", "days"]
    made = ok(
        app_client.post("/api/tokens", json={"name": "ehr", "password": PASSWORD}, headers=headers),
        201,
    )
    lasts = dt.datetime.fromisoformat(made["expires_at"]) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=89) < lasts <= dt.timedelta(days=90)
    with pytest.raises(InvalidField):
        accounts.issue_token(app_client.app.state.sessions, username, "cli", days=91)  # type: ignore[attr-defined]


def test_a_single_sign_on_account_needs_a_recent_sign_in(app_client: TestClient) -> None:
    """No password to enter again: the browser sign-in must be minutes old, and a bearer
    token (no sign-in at all) cannot make another."""
    username, token = make_user(app_client, Role.CLINICIAN, teams=(TEAM,), password=None)
    sessions = app_client.app.state.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        user_id = session.query(UserRow).filter_by(username=username).one().id
    signed_in = accounts.sign_in_as(sessions, user_id, session_hours=1)
    browser = TestClient(app_client.app)
    browser.cookies.set("cw_session", signed_in.secret)
    headers = {CSRF_HEADER: signed_in.csrf_token}
    ok(browser.post("/api/tokens", json={"name": "fresh"}, headers=headers), 201)
    assert (
        app_client.post("/api/tokens", json={"name": "t"}, headers=bearer(token)).status_code == 403
    )
    with sessions.begin() as session:
        session.execute(
            update(SignInSessionRow)
            .where(SignInSessionRow.user_id == user_id)
            .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30))
        )
    stale = browser.post("/api/tokens", json={"name": "stale"}, headers=headers)
    assert stale.status_code == 403
    assert "sign in again" in stale.json()["detail"]
