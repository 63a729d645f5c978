"""The admin API (/api/admin/...): admins make and change accounts and care teams; everyone
else is refused (403, or 401 when not signed in); no answer ever holds a password hash.

Users and teams outlive a test's data (`tests.web.accounts`), so each test names its own.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from cervixwatch.store.models import Role
from tests.web.accounts import PASSWORD, bearer, make_user
from tests.web.api_builders import ok, woman
from tests.web.test_audit_log import only_entry

NEW_PASSWORD = "a much longer new passphrase"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Admin:
    """Requests as an admin (by bearer token), every answer kept to look for hashes."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.username, self.token = make_user(client, Role.ADMIN)
        self.answers: list[Response] = []

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Response:
        headers = {**(headers or {}), **bearer(self.token)}
        answer = self.client.request(method, path, headers=headers, **kwargs)
        self.answers.append(answer)
        return answer

    def user(self, username: str) -> dict[str, Any]:
        users = ok(self.request("GET", "/api/admin/users"))
        found: dict[str, Any] = next(u for u in users if u["username"] == username)
        return found

    def team(self, name: str) -> dict[str, Any]:
        teams = ok(self.request("GET", "/api/admin/teams"))
        found: dict[str, Any] = next(t for t in teams if t["name"] == name)
        return found


@pytest.fixture
def admin(client: TestClient) -> Iterator[Admin]:
    acting = Admin(client)
    yield acting
    for answer in acting.answers:
        assert "argon2" not in answer.text, answer.text
        assert "password" not in answer.text or answer.status_code == 422, answer.text


def sign_in(client: TestClient, username: str, password: str) -> Response:
    """A sign-in from a fresh browser (its own cookie jar), with no bearer token."""
    browser = TestClient(client.app)
    return browser.post("/auth/sign-in", json={"username": username, "password": password})


def field_errors(answer: Response) -> list[tuple[str, ...]]:
    assert answer.status_code == 422, answer.text
    return [tuple(e["loc"]) for e in answer.json()["detail"]]


# --- creating accounts ----------------------------------------------------------------------


def set_password(client: TestClient, username: str, code: str, password: str = PASSWORD) -> int:
    """The user sets her own password with the admin's one-time code (issue 12, F2)."""
    browser = TestClient(client.app)
    body = {"username": username, "code": code, "password": password}
    return browser.post("/auth/set-password", json=body).status_code


def test_an_admin_creates_a_clinician_who_sets_her_own_password(
    client: TestClient, admin: Admin
) -> None:
    """Issue 12, F2: the admin gets a one-time code, never a password; the account in a care
    team is of no use until its user has set her own password with the code."""
    username, team = unique("dr"), unique("Team")
    body = {
        "username": username,
        "role": "clinician",
        "display_name": "Dr Demo",
        "teams": [team],
    }
    made = ok(admin.request("POST", "/api/admin/users", json=body), 201)
    code = made.pop("one_time_code")
    assert code
    expires = dt.datetime.fromisoformat(made.pop("one_time_code_expires_at"))
    assert dt.timedelta(hours=23) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=24)
    assert made["username"] == username
    assert made["role"] == "clinician"
    assert made["teams"] == [team]
    assert (made["disabled"], made["locked"], made["failed_sign_ins"]) == (False, False, 0)
    assert set(made) == {
        "id",
        "username",
        "display_name",
        "role",
        "patient_id",
        "teams",
        "disabled",
        "locked",
        "failed_sign_ins",
        "created_at",
    }
    listed = admin.user(username)
    assert (listed.pop("one_time_code"), listed.pop("one_time_code_expires_at")) == (None, None)
    assert listed == made
    assert admin.team(team)["members"] == [username]
    # Nothing signs in until she has set her password with the code; the code works once.
    assert sign_in(client, username, PASSWORD).status_code == 401
    assert set_password(client, username, "not the code") == 401
    assert set_password(client, username, code) == 204
    assert ok(sign_in(client, username, PASSWORD))["role"] == "clinician"
    assert set_password(client, username, code, NEW_PASSWORD) == 401


def test_an_admin_creates_a_patient_linked_to_her_record(client: TestClient, admin: Admin) -> None:
    patient_id, _ = woman(client, unique("H"))
    username = unique("mrs")
    body = {"username": username, "role": "patient", "patient_id": patient_id}
    made = ok(admin.request("POST", "/api/admin/users", json=body), 201)
    assert (made["patient_id"], made["teams"]) == (patient_id, [])
    assert set_password(client, username, made["one_time_code"]) == 204
    her = ok(sign_in(client, username, PASSWORD))
    assert (her["role"], her["patient_id"]) == ("patient", patient_id)

    again = {**body, "username": unique("mrs")}
    assert admin.request("POST", "/api/admin/users", json=again).status_code == 409
    without_record = {**body, "username": unique("mrs"), "patient_id": None}
    assert field_errors(admin.request("POST", "/api/admin/users", json=without_record)) == [
        ("body", "patient_id")
    ]
    unknown = {**body, "username": unique("mrs"), "patient_id": "no-such-woman"}
    assert field_errors(admin.request("POST", "/api/admin/users", json=unknown)) == [
        ("body", "patient_id")
    ]


def test_a_taken_username_is_a_conflict(admin: Admin) -> None:
    body = {"username": unique("dup"), "role": "auditor"}
    ok(admin.request("POST", "/api/admin/users", json=body), 201)
    assert admin.request("POST", "/api/admin/users", json=body).status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": PASSWORD}, "password"),  # an admin never sets one (issue 12, F2)
        ({"password": "too short"}, "password"),
        ({"password": "x" * 257}, "password"),
        ({"password": "\ud800 secret words here"}, "password"),
        ({"role": "wizard"}, "role"),
        ({"username": ""}, "username"),
        ({"username": "two words"}, "username"),
        ({"username": "u" * 65}, "username"),
        ({"display_name": "d" * 201}, "display_name"),
        ({"teams": ["t" * 201]}, "teams"),
        ({"role": "admin", "teams": ["A team"]}, "teams"),
        ({"role": "admin", "patient_id": "someone"}, "patient_id"),
        ({"pasword": PASSWORD}, "pasword"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(
    admin: Admin, change: dict[str, Any], field: str
) -> None:
    body = {"username": unique("bad"), "role": "clinician", **change}
    # Encoded here: the client would not encode a lone surrogate, which JSON's \ud800 can carry.
    answer = admin.request(
        "POST",
        "/api/admin/users",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert field_errors(answer)[0][:2] == ("body", field)
    if "password" in change:
        # The refused password is not echoed back.
        assert change["password"][-10:] not in answer.text
    assert not any(
        u["username"] == body["username"] for u in ok(admin.request("GET", "/api/admin/users"))
    )


# --- changing accounts ----------------------------------------------------------------------


def test_wrong_passwords_are_counted_but_never_lock(client: TestClient, admin: Admin) -> None:
    """Issue 12, F4: the admin sees the wrong passwords counted; the account is not locked
    (the guessing address backs off instead), and a right one elsewhere clears the count."""
    username, _ = make_user(client, Role.CLINICIAN)
    threshold = client.app.state.settings.lockout_threshold  # type: ignore[attr-defined]
    for _ in range(threshold):
        assert sign_in(client, username, "not the password at all").status_code == 401
    counted = admin.user(username)
    assert (counted["locked"], counted["failed_sign_ins"]) == (False, threshold)
    assert sign_in(client, username, PASSWORD).status_code == 429  # this address waits

    elsewhere = TestClient(client.app, client=("192.0.2.44", 40000))
    ok(elsewhere.post("/auth/sign-in", json={"username": username, "password": PASSWORD}))
    assert admin.user(username)["failed_sign_ins"] == 0
    unlocked = ok(admin.request("PATCH", f"/api/admin/users/{username}", json={"unlock": True}))
    assert (unlocked["locked"], unlocked["failed_sign_ins"]) == (False, 0)


def test_a_disabled_account_loses_its_tokens_and_sign_ins(client: TestClient, admin: Admin) -> None:
    username, token = make_user(client, Role.CLINICIAN)
    browser = TestClient(client.app)
    ok(browser.post("/auth/sign-in", json={"username": username, "password": PASSWORD}))
    ok(browser.get("/auth/me"))
    ok(client.get("/auth/me", headers=bearer(token)))

    path = f"/api/admin/users/{username}"
    assert ok(admin.request("PATCH", path, json={"disabled": True}))["disabled"] is True
    assert client.get("/auth/me", headers=bearer(token)).status_code == 401
    assert browser.get("/auth/me").status_code == 401
    assert sign_in(client, username, PASSWORD).status_code == 401

    assert ok(admin.request("PATCH", path, json={"disabled": False}))["disabled"] is False
    ok(sign_in(client, username, PASSWORD))
    # Her sign-in and her token ended for good when she was disabled (issue 12, F3).
    assert browser.get("/auth/me").status_code == 401
    assert client.get("/auth/me", headers=bearer(token)).status_code == 401


def test_an_admin_cannot_disable_herself(admin: Admin) -> None:
    answer = admin.request("PATCH", f"/api/admin/users/{admin.username}", json={"disabled": True})
    assert field_errors(answer) == [("body", "disabled")]


def test_a_reset_gives_a_code_and_ends_the_old_password_and_her_sign_ins(
    client: TestClient, admin: Admin
) -> None:
    username, _ = make_user(client, Role.CLINICIAN)
    browser = TestClient(client.app)
    ok(browser.post("/auth/sign-in", json={"username": username, "password": PASSWORD}))

    path = f"/api/admin/users/{username}"
    # Issue 12, F2: an admin cannot set a password she would then know...
    chosen = admin.request("PATCH", path, json={"password": NEW_PASSWORD})
    assert field_errors(chosen) == [("body", "password")]
    assert NEW_PASSWORD not in chosen.text
    assert sign_in(client, username, NEW_PASSWORD).status_code == 401
    ok(sign_in(client, username, PASSWORD))

    # ... a reset ends the old password and her sign-ins, and gives a one-time code.
    reset = ok(admin.request("PATCH", path, json={"reset_password": True}))
    assert browser.get("/auth/me").status_code == 401
    assert sign_in(client, username, PASSWORD).status_code == 401
    assert set_password(client, username, reset["one_time_code"], "short") == 422
    assert set_password(client, username, reset["one_time_code"], NEW_PASSWORD) == 204
    ok(sign_in(client, username, NEW_PASSWORD))


def test_an_unknown_username_is_not_found(admin: Admin) -> None:
    answer = admin.request("PATCH", "/api/admin/users/nobody-at-all", json={"unlock": True})
    assert answer.status_code == 404


def test_care_teams_of_a_clinician_change(client: TestClient, admin: Admin) -> None:
    username, _ = make_user(client, Role.CLINICIAN)
    first, second = unique("Team"), unique("Team")
    path = f"/api/admin/users/{username}"
    added = ok(admin.request("PATCH", path, json={"add_teams": [first, second]}))
    assert added["teams"] == sorted([first, second])
    removed = ok(admin.request("PATCH", path, json={"remove_teams": [first]}))
    assert removed["teams"] == [second]
    assert admin.team(first)["members"] == []
    assert admin.team(second)["members"] == [username]

    nowhere = admin.request("PATCH", path, json={"remove_teams": [unique("No team")]})
    assert field_errors(nowhere) == [("body", "remove_teams")]
    auditor, _ = make_user(client, Role.AUDITOR)
    not_clinician = {"add_teams": [first]}
    assert field_errors(
        admin.request("PATCH", f"/api/admin/users/{auditor}", json=not_clinician)
    ) == [("body", "add_teams")]


def test_an_admin_puts_a_woman_under_a_teams_care_by_id(client: TestClient, admin: Admin) -> None:
    patient_id, _ = woman(client, unique("H"))
    team = unique("Team")
    path = f"/api/admin/teams/{team}/patients"
    assigned = ok(admin.request("POST", path, json={"patient_id": patient_id}))
    assert set(assigned) == {"team_id", "team", "patient_id", "added"}
    assert (assigned["team"], assigned["patient_id"], assigned["added"]) == (
        team,
        patient_id,
        True,
    )
    assert ok(admin.request("POST", path, json={"patient_id": patient_id}))["added"] is False
    assert admin.team(team)["patients"] == 1

    # A clinician of the team now sees her.
    _, token = make_user(client, Role.CLINICIAN, teams=(team,))
    ok(client.get(f"/api/patients/{patient_id}", headers=bearer(token)))

    unknown = admin.request("POST", path, json={"patient_id": "no-such-woman"})
    assert field_errors(unknown) == [("body", "patient_id")]


# --- who may ----------------------------------------------------------------------------------

ROUTES = [
    ("GET", "/api/admin/users", None),
    ("POST", "/api/admin/users", {"username": "x-y-z", "role": "admin", "password": PASSWORD}),
    ("PATCH", "/api/admin/users/{username}", {"unlock": True}),
    ("GET", "/api/admin/teams", None),
    ("POST", "/api/admin/teams/Any%20team/patients", {"patient_id": "{patient_id}"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_only_admins_may(
    client: TestClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    patient_id, _ = woman(client, unique("H"))
    target, _ = make_user(client, Role.CLINICIAN)
    path = path.replace("{username}", target)
    if body is not None:
        body = {k: patient_id if v == "{patient_id}" else v for k, v in body.items()}
    tokens = {
        "clinician": make_user(client, Role.CLINICIAN)[1],
        "patient": make_user(client, Role.PATIENT, patient_id=patient_id)[1],
        "auditor": make_user(client, Role.AUDITOR)[1],
    }
    for role, token in tokens.items():
        answer = client.request(method, path, json=body, headers=bearer(token))
        assert answer.status_code == 403, f"{role}: {answer.text}"
    del client.headers["Authorization"]
    assert client.request(method, path, json=body).status_code == 401


def test_a_browser_admin_needs_the_csrf_token(client: TestClient, admin: Admin) -> None:
    username, _ = make_user(client, Role.ADMIN)
    target, _ = make_user(client, Role.CLINICIAN)
    browser = TestClient(client.app)
    me = ok(browser.post("/auth/sign-in", json={"username": username, "password": PASSWORD}))
    path = f"/api/admin/users/{target}"
    assert browser.patch(path, json={"unlock": True}).status_code == 403
    csrf = {"X-CSRF-Token": me["csrf_token"]}
    ok(browser.patch(path, json={"unlock": True}, headers=csrf))
    ok(browser.get("/api/admin/users"))


def test_every_admin_change_is_audited_naming_the_account(client: TestClient, admin: Admin) -> None:
    """Issue 12, F2: the entry of each admin action names the account changed; putting a
    clinician in a care team is recorded as a grant of access, a reset as a reset."""
    username, _ = make_user(client, Role.CLINICIAN)
    her_id = admin.user(username)["id"]
    path = f"/api/admin/users/{username}"
    changes = (
        ({"disabled": True}, "user-admin"),
        ({"disabled": False}, "user-admin"),
        ({"add_teams": [unique("Team")]}, "access-grant"),
        ({"reset_password": True}, "password-reset"),
    )
    for change, action in changes:
        answer = admin.request("PATCH", path, json=change)
        entry = only_entry(client, answer)
        assert (entry.action, entry.target_user_id, entry.path) == (
            action,
            her_id,
            "/api/admin/users/{username}",
        )
    made = admin.request(
        "POST",
        "/api/admin/users",
        json={"username": unique("dr"), "role": "clinician", "teams": [unique("Team")]},
    )
    entry = only_entry(client, made)
    assert (entry.action, entry.target_user_id) == ("access-grant", made.json()["id"])
    # Her own use of the code is recorded too, naming her.
    answer = TestClient(client.app).post(
        "/auth/set-password",
        json={
            "username": made.json()["username"],
            "code": made.json()["one_time_code"],
            "password": PASSWORD,
        },
    )
    entry = only_entry(client, answer)
    assert (entry.action, entry.target_user_id, entry.status) == (
        "password-set",
        made.json()["id"],
        204,
    )


def test_the_set_password_page_takes_the_code(client: TestClient, admin: Admin) -> None:
    username, _ = make_user(client, Role.CLINICIAN)
    reset = ok(
        admin.request("PATCH", f"/api/admin/users/{username}", json={"reset_password": True})
    )
    browser = TestClient(client.app)
    assert "/set-password" in browser.get("/sign-in").text
    form = {"username": username, "code": reset["one_time_code"], "password": NEW_PASSWORD}
    differ = browser.post("/set-password", data={**form, "again": NEW_PASSWORD + "!"})
    assert differ.status_code == 422
    wrong = browser.post("/set-password", data={**form, "code": "nope", "again": NEW_PASSWORD})
    assert wrong.status_code == 401
    assert NEW_PASSWORD not in wrong.text
    done = browser.post("/set-password", data={**form, "again": NEW_PASSWORD})
    assert done.status_code == 200
    assert "Your password is set" in done.text
    entry = only_entry(client, done)
    assert (entry.action, entry.target_user_id) == ("password-set", admin.user(username)["id"])
    ok(sign_in(client, username, NEW_PASSWORD))
