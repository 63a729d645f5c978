"""Signing in with a password: the cookie, CSRF on state-changing requests, sign-out, the
back-off per account and address after repeated wrong passwords (never a lock anyone could
set off, issue 12, F4; each guess counted under concurrent attempts) and rate limits."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.app import accounts
from cervixwatch.store.models import Role, UserRow
from cervixwatch.web.access import CSRF_HEADER, SESSION_COOKIE
from cervixwatch.web.app import create_app
from cervixwatch.web.rate_limits import Backoff, RateLimiter
from tests.store.tables import delete_everything
from tests.web.accounts import PASSWORD, TEAM, make_user, test_settings
from tests.web.api_builders import at, ok, seed
from tests.web.conftest import TODAY

THRESHOLD = 10
BACKOFF_SECONDS = 1


@pytest.fixture
def app_client(engine: Engine) -> Iterator[TestClient]:
    """An anonymous client (no bearer token) of an app whose sign-in rate limit is high, so
    the tests of the lock are not stopped by it first."""
    delete_everything(engine)
    settings = test_settings(
        engine, lockout_threshold=THRESHOLD, lockout_backoff_seconds=BACKOFF_SECONDS
    )
    with TestClient(create_app(settings, today=lambda: TODAY)) as client:
        yield client
    delete_everything(engine)


def _sign_in(client: TestClient, username: str, password: str = PASSWORD) -> int:
    return client.post(
        "/auth/sign-in", json={"username": username, "password": password}
    ).status_code


def test_sign_in_sets_a_secure_cookie_and_csrf_guards_writes(app_client: TestClient) -> None:
    username, _ = make_user(app_client, Role.CLINICIAN, teams=(TEAM,))
    answer = app_client.post("/auth/sign-in", json={"username": username, "password": PASSWORD})
    me = ok(answer)
    assert me["role"] == "clinician"
    cookie = answer.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # served over plain http here
    # Reading works with the cookie alone.
    assert ok(app_client.get("/auth/me"))["csrf_token"] == me["csrf_token"]
    assert app_client.get("/api/worklist").status_code == 200
    # A state-changing request signed by the cookie needs the CSRF token...
    refused = app_client.post("/api/patients", json={"hospital_number": "C1"})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    wrong = app_client.post(
        "/api/patients", json={"hospital_number": "C1"}, headers={CSRF_HEADER: "guess"}
    )
    assert wrong.status_code == 403
    made = app_client.post(
        "/api/patients", json={"hospital_number": "C1"}, headers={CSRF_HEADER: me["csrf_token"]}
    )
    assert made.status_code == 201, made.text
    # ... and signing out ends the sign-in for good.
    assert (
        app_client.post("/auth/sign-out", headers={CSRF_HEADER: me["csrf_token"]}).status_code
        == 204
    )
    assert app_client.get("/api/worklist").status_code == 401


def test_the_cookie_is_secure_over_tls(engine: Engine) -> None:
    with TestClient(
        create_app(test_settings(engine), today=lambda: TODAY), base_url="https://testserver"
    ) as client:
        username, _ = make_user(client, Role.AUDITOR)
        answer = client.post("/auth/sign-in", json={"username": username, "password": PASSWORD})
        assert answer.status_code == 200
        assert "Secure" in answer.headers["set-cookie"]


def test_a_wrong_password_and_an_unknown_user_answer_the_same(app_client: TestClient) -> None:
    username, _ = make_user(app_client, Role.CLINICIAN)
    wrong = app_client.post("/auth/sign-in", json={"username": username, "password": "x" * 12})
    unknown = app_client.post("/auth/sign-in", json={"username": "nobody", "password": "x" * 12})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")


def test_the_password_is_never_echoed_in_an_error(app_client: TestClient) -> None:
    secret = "s3cret-" * 40
    answer = app_client.post("/auth/sign-in", json={"username": "a", "password": secret})
    assert answer.status_code == 422
    assert "s3cret" not in answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "password"]


def _locked(client: TestClient, username: str) -> bool:
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        user = session.query(UserRow).filter_by(username=username).one()
        return user.locked_at is not None


def _elsewhere(client: TestClient, address: str = "192.0.2.7") -> TestClient:
    """A browser at another client address, on the same running app."""
    return TestClient(client.app, client=(address, 40000))


def test_wrong_passwords_back_off_one_address_and_never_lock_the_account(
    app_client: TestClient,
) -> None:
    """Issue 12, F4: an anonymous attacker's wrong guesses make only the attacker's address
    wait, doubling each time; the account is not locked, its owner signs in from elsewhere,
    and her open sign-in goes on."""
    username, _ = make_user(app_client, Role.CLINICIAN, teams=(TEAM,))
    owner = _elsewhere(app_client, "198.51.100.20")
    assert _sign_in(owner, username) == 200
    answers = [_sign_in(app_client, username, "wrong password!") for _ in range(THRESHOLD)]
    assert set(answers) == {401}
    # From now on this address waits, whatever it sends (the right password too)...
    refused = app_client.post(
        "/auth/sign-in", json={"username": username, "password": "wrong password!"}
    )
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= BACKOFF_SECONDS
    assert _sign_in(app_client, username) == 429
    # ... but the account is not locked: the owner's sign-in goes on, and she signs in again
    # from her own address.
    assert not _locked(app_client, username)
    assert owner.get("/auth/me").status_code == 200
    assert _sign_in(_elsewhere(app_client, "203.0.113.9"), username) == 200
    # The wait ends by itself.
    time.sleep(BACKOFF_SECONDS + 0.2)
    assert _sign_in(app_client, username) == 200


def test_the_back_off_doubles_and_forgets_after_a_right_password() -> None:
    backoff = Backoff(threshold=3, base_seconds=15, max_seconds=900)
    assert [backoff.seconds_after(n) for n in range(1, 11)] == [
        *(0, 0, 15, 30, 60, 120, 240, 480),
        *(900, 900),
    ]
    limiter = RateLimiter()
    keys = ("wrong-password", "her", "192.0.2.1")
    for _ in range(3):
        limiter.count_failure(backoff, *keys)
    assert 14 <= limiter.backed_off_for(*keys) <= 15
    assert limiter.backed_off_for("wrong-password", "her", "192.0.2.2") == 0
    limiter.clear_failures(*keys)
    assert limiter.backed_off_for(*keys) == 0
    assert limiter.count_failure(backoff, *keys) == 1


def test_an_unknown_username_backs_off_the_same(app_client: TestClient) -> None:
    answers = [_sign_in(app_client, "nobody-here", "wrong password!") for _ in range(THRESHOLD)]
    assert set(answers) == {401}
    assert _sign_in(app_client, "nobody-here") == 429


def test_concurrent_guesses_are_each_counted_and_never_lock(app_client: TestClient) -> None:
    """Many guesses at once: each one checked is counted on her row, none gets in, and the
    account stays open to its owner elsewhere."""
    username, _ = make_user(app_client, Role.CLINICIAN)
    results: list[int] = []
    lock = threading.Lock()

    def attempt(password: str) -> None:
        status = _sign_in(app_client, username, password)
        with lock:
            results.append(status)

    threads = [threading.Thread(target=attempt, args=("wrong password!",)) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results) <= {401, 429}
    assert results.count(401) >= THRESHOLD
    assert not _locked(app_client, username)
    with app_client.app.state.sessions() as session:  # type: ignore[attr-defined]
        user = session.query(UserRow).filter_by(username=username).one()
        # Every guess that was checked was counted (none lost to a race).
        assert user.failed_sign_ins == results.count(401)
    assert _sign_in(app_client, username) == 429
    assert _sign_in(_elsewhere(app_client), username) == 200


def test_an_account_locked_before_the_upgrade_stays_locked_until_unlocked(
    app_client: TestClient,
) -> None:
    username, _ = make_user(app_client, Role.CLINICIAN)
    sessions = app_client.app.state.sessions  # type: ignore[attr-defined]
    with sessions.begin() as session:
        session.query(UserRow).filter_by(username=username).update(
            {"locked_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}
        )
    assert _sign_in(app_client, username) == 401
    accounts.unlock(sessions, username)
    assert _sign_in(app_client, username) == 200


def test_sign_in_is_rate_limited(engine: Engine) -> None:
    settings = test_settings(engine, sign_in_rate_limit="5/minute", lockout_threshold=1000)
    with TestClient(create_app(settings, today=lambda: TODAY)) as client:
        username, _ = make_user(client, Role.CLINICIAN)
        answers = [_sign_in(client, username, "wrong password!") for _ in range(7)]
        assert answers[:5] == [401] * 5
        assert answers[5:] == [429, 429]
        refused = client.post("/auth/sign-in", json={"username": username, "password": PASSWORD})
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1


def test_the_api_is_rate_limited_per_user(engine: Engine) -> None:
    settings = test_settings(engine, api_rate_limit="3/minute")
    with TestClient(create_app(settings, today=lambda: TODAY)) as client:
        _, token = make_user(client, Role.CLINICIAN, teams=(TEAM,))
        _, other = make_user(client, Role.CLINICIAN, teams=(TEAM,))
        mine = [
            client.get("/api/worklist", headers={"Authorization": f"Bearer {token}"}).status_code
            for _ in range(4)
        ]
        assert mine == [200, 200, 200, 429]
        theirs = client.get("/api/worklist", headers={"Authorization": f"Bearer {other}"})
        assert theirs.status_code == 200


def test_a_revoked_or_unknown_token_is_refused(app_client: TestClient) -> None:
    _, token = make_user(app_client, Role.CLINICIAN, teams=(TEAM,))
    headers = {"Authorization": f"Bearer {token}"}
    assert app_client.get("/api/worklist", headers=headers).status_code == 200
    [listed] = ok(app_client.get("/api/tokens", headers=headers))
    assert "token" not in listed  # the secret is never shown again
    assert app_client.delete(f"/api/tokens/{listed['id']}", headers=headers).status_code == 204
    refused = app_client.get("/api/worklist", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    bogus = app_client.get("/api/worklist", headers={"Authorization": "Bearer nonsense"})
    assert bogus.status_code == 401


def test_a_disabled_account_loses_its_sign_ins_and_tokens(app_client: TestClient) -> None:
    username, token = make_user(app_client, Role.CLINICIAN, teams=(TEAM,))
    assert _sign_in(app_client, username) == 200
    sessions = app_client.app.state.sessions  # type: ignore[attr-defined]
    accounts.set_disabled(sessions, username, True)
    assert app_client.get("/auth/me").status_code == 401
    assert (
        app_client.get("/api/worklist", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    assert _sign_in(app_client, username) == 401


def test_lists_and_searches_hold_only_the_callers_women(app_client: TestClient) -> None:
    _, mine = make_user(app_client, Role.CLINICIAN, teams=(TEAM,))
    _, theirs = make_user(app_client, Role.CLINICIAN, teams=("Elsewhere",))
    app_client.headers["Authorization"] = f"Bearer {mine}"
    x = seed(app_client, "X1", at("19+0").with_length(24, at="18+0"))
    patient_token = make_user(app_client, Role.PATIENT, patient_id=x.patient_id)[1]
    del app_client.headers["Authorization"]
    as_mine = {"Authorization": f"Bearer {mine}"}
    as_theirs = {"Authorization": f"Bearer {theirs}"}
    as_her = {"Authorization": f"Bearer {patient_token}"}
    assert ok(app_client.get("/api/worklist", headers=as_mine))["total"] == 1
    assert ok(app_client.get("/api/worklist", headers=as_theirs))["total"] == 0
    assert ok(app_client.get("/api/patients", headers=as_theirs))["total"] == 0
    for headers, expected in ((as_mine, 1), (as_theirs, 0), (as_her, 1)):
        found = ok(app_client.get("/fhir/Patient", headers=headers))
        assert found["total"] == expected
        lengths = ok(
            app_client.get(f"/fhir/Observation?patient=Patient/{x.patient_id}", headers=headers)
        )
        assert (lengths["total"] > 0) == (expected == 1)
    # Guessing: the other clinician and another patient get 404, as for no such record.
    for headers in (as_theirs,):
        assert app_client.get(f"/api/patients/{x.patient_id}", headers=headers).status_code == 404
        assert app_client.get(f"/fhir/Patient/{x.patient_id}", headers=headers).status_code == 404
        assert (
            app_client.get(f"/fhir/Patient/{x.patient_id}/$everything", headers=headers).status_code
            == 404
        )
