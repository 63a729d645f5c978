"""Issue 12, low finding: passwords were checked for length only, so `password1234` and
twelve spaces were accepted. Every way a password is set (the one-time code's API and page;
`cervixwatch users` in tests/test_users_cli.py) now refuses a common one, only spaces, one
character repeated and the username, with 422 naming the rule and never the password; a
refusal does not use up the code."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cervixwatch.app import accounts
from cervixwatch.store.models import Role
from tests.web.accounts import make_user

NEW_PASSWORD = "a much longer new passphrase"


def _code(client: TestClient, username: str) -> str:
    """An admin's reset: the one-time code with which she sets her own password."""
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    reset = accounts.update_user(sessions, username, reset_password=True)
    assert reset.code is not None
    return reset.code.secret


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("password1234", "is one of the most common passwords; choose another"),
        (" " * 12, "must not be only spaces"),
        ("7" * 12, "must not be one character or one group of characters repeated"),
        (None, "must not be the username"),
    ],
)
def test_the_api_refuses_a_weak_new_password_naming_the_rule(
    client: TestClient, password: str | None, rule: str
) -> None:
    username, _ = make_user(client, Role.CLINICIAN, password=None)
    password = password or username  # long enough (19 characters), and her username
    code = _code(client, username)
    browser = TestClient(client.app)
    body = {"username": username, "code": code, "password": password}

    refused = browser.post("/auth/set-password", json=body)

    assert refused.status_code == 422, refused.text
    [error] = refused.json()["detail"]
    assert (tuple(error["loc"]), error["msg"]) == (("body", "password"), rule)
    if password.strip() and password != username:
        assert password not in refused.text
    assert error.get("input") is None
    # The code still works for a good password; the weak one never signs in.
    weak = {"username": username, "password": password}
    assert browser.post("/auth/sign-in", json=weak).status_code == 401
    done = browser.post("/auth/set-password", json={**body, "password": NEW_PASSWORD})
    assert done.status_code == 204, done.text
    signed_in = browser.post("/auth/sign-in", json={"username": username, "password": NEW_PASSWORD})
    assert signed_in.status_code == 200, signed_in.text


def test_the_page_refuses_a_common_password_naming_the_rule(client: TestClient) -> None:
    username, _ = make_user(client, Role.CLINICIAN, password=None)
    form = {"username": username, "code": _code(client, username)}
    browser = TestClient(client.app)

    refused = browser.post(
        "/set-password", data={**form, "password": "password1234", "again": "password1234"}
    )

    assert refused.status_code == 422
    assert "The new password: is one of the most common passwords" in refused.text
    assert "password1234" not in refused.text
    done = browser.post(
        "/set-password", data={**form, "password": NEW_PASSWORD, "again": NEW_PASSWORD}
    )
    assert done.status_code == 200
    assert "Your password is set" in done.text
