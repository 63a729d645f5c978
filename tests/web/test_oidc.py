"""Single sign-on through OpenID Connect, against a real provider served on 127.0.0.1
(`tests/web/oidc_provider.py`): the account an admin linked to the provider's subject is
signed in with the password sign-in's cookie; an unknown subject, a disabled account, a
tampered or foreign state and a bad ID token are refused; with no issuer configured the
routes do not exist, and an incomplete configuration stops the app from starting.

Accounts outlive every test (see tests/web/accounts.py), so each test links a new subject.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc.jwk import RSAKey
from pydantic import SecretStr
from sqlalchemy import Engine, func, select

from cervixwatch.app import accounts
from cervixwatch.settings import Settings
from cervixwatch.store.models import AuditEventRow, Role, UserRow
from cervixwatch.web.access import SESSION_COOKIE
from cervixwatch.web.app import create_app
from cervixwatch.web.oidc import (
    PREFIX,
    STATE_COOKIE,
    OIDCConfigurationError,
    add_oidc,
    oidc_router,
)
from tests.store.tables import delete_everything
from tests.web.accounts import TEAM, test_settings
from tests.web.conftest import TODAY
from tests.web.oidc_provider import CLIENT_ID, OpenIDProvider, serving_provider

SIGN_IN = f"{PREFIX}/sign-in"
CALLBACK = f"{PREFIX}/callback"
STATE_SECRET = "state-secret-for-the-tests-0123456789abcdef"


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIDProvider]:
    with serving_provider() as running:
        yield running


def oidc_settings(engine: Engine, provider: OpenIDProvider, **overrides: Any) -> Settings:
    return test_settings(
        engine,
        oidc_issuer=provider.issuer,
        oidc_client_id=provider.client_id,
        oidc_client_secret=provider.client_secret,
        oidc_state_secret=STATE_SECRET,
        **overrides,
    )


def oidc_app(settings: Settings) -> FastAPI:
    app = create_app(settings, today=lambda: TODAY)
    # Until create_app installs single sign-on itself.
    if not any(getattr(route, "path", None) == SIGN_IN for route in app.routes):
        add_oidc(app, settings)
    return app


@pytest.fixture
def client(engine: Engine, provider: OpenIDProvider) -> Iterator[TestClient]:
    """An anonymous browser of an app with single sign-on through `provider`."""
    provider.tamper.clear()
    provider.forge_with = None
    provider.subject = f"sso-{uuid.uuid4().hex}"
    delete_everything(engine)
    with TestClient(oidc_app(oidc_settings(engine, provider))) as browser:
        yield browser
    delete_everything(engine)


def link_account(client: TestClient, subject: str, role: Role = Role.CLINICIAN) -> str:
    """A new account linked to the provider's `subject` (as an admin makes it); its id."""
    user = accounts.add_user(
        client.app.state.sessions,  # type: ignore[attr-defined]
        f"{role.value}-{uuid.uuid4().hex[:10]}",
        role,
        teams=(TEAM,) if role == Role.CLINICIAN else (),
        oidc_subject=subject,
    )
    return user.id


def user_count(client: TestClient) -> int:
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        return session.scalar(select(func.count()).select_from(UserRow)) or 0


def to_provider(client: TestClient, provider: OpenIDProvider) -> str:
    """Start a sign-in; the URL of the provider it redirects to."""
    start = client.get(SIGN_IN, follow_redirects=False)
    assert start.status_code == 302, start.text
    location = start.headers["location"]
    assert location.startswith(f"{provider.issuer}/authorize?")
    return location


def back_from_provider(location: str) -> tuple[str, dict[str, str]]:
    """Follow the redirect to the provider over real HTTP; the callback path and query it
    sends the browser back with."""
    with httpx2.Client(follow_redirects=False) as browser:
        answer = browser.get(location)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert (back.scheme, back.netloc) == ("http", "testserver")
    return back.path, dict(parse_qsl(back.query))


def sign_in_through(client: TestClient, provider: OpenIDProvider) -> httpx2.Response:
    path, query = back_from_provider(to_provider(client, provider))
    return client.get(f"{path}?{urlencode(query)}", follow_redirects=False)


# --- signing in ---------------------------------------------------------------------------------


def test_a_linked_clinician_signs_in_with_the_password_sign_ins_cookie(
    client: TestClient, provider: OpenIDProvider
) -> None:
    user_id = link_account(client, provider.subject)
    answer = sign_in_through(client, provider)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/"
    cookies = answer.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in session_cookie
    assert "samesite=lax" in session_cookie.lower()
    assert "Path=/;" in session_cookie or session_cookie.endswith("Path=/")
    assert "Secure" not in session_cookie  # served over plain http here
    # The flow's one-time state is spent: its cookie is cleared.
    assert any(c.startswith(f"{STATE_COOKIE}=null") for c in cookies)
    me = client.get("/auth/me")
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user_id
    assert me.json()["role"] == "clinician"
    assert client.get("/api/worklist").status_code == 200
    # The sign-in is in the audit log, with who it was.
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        entry = session.scalars(
            select(AuditEventRow).where(AuditEventRow.request_id == answer.headers["X-Request-ID"])
        ).one()
    assert (entry.action, entry.actor_id, entry.status) == ("sign-in", user_id, 303)


def test_the_client_asks_for_openid_with_pkce_state_and_nonce(
    client: TestClient, provider: OpenIDProvider
) -> None:
    location = to_provider(client, provider)
    query = dict(parse_qsl(urlsplit(location).query))
    assert query["response_type"] == "code"
    assert query["scope"].split() == ["openid"]
    assert query["client_id"] == provider.client_id
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"]
    assert query["state"]
    assert query["nonce"]
    assert query["redirect_uri"] == f"http://testserver{CALLBACK}"
    assert "code_verifier" not in query


def test_the_state_cookie_is_httponly_lax_and_only_for_the_sign_in_routes(
    client: TestClient,
) -> None:
    start = client.get(SIGN_IN, follow_redirects=False)
    state_cookie = next(
        c for c in start.headers.get_list("set-cookie") if c.startswith(f"{STATE_COOKIE}=")
    )
    assert "httponly" in state_cookie.lower()
    assert "samesite=lax" in state_cookie.lower()
    assert f"path={PREFIX}" in state_cookie.lower()
    assert "secure" not in state_cookie.lower()


def test_the_state_cookie_is_secure_when_cookies_must_be(
    engine: Engine, provider: OpenIDProvider
) -> None:
    settings = oidc_settings(engine, provider, cookie_secure=True)
    with TestClient(oidc_app(settings), base_url="https://testserver") as browser:
        start = browser.get(SIGN_IN, follow_redirects=False)
    state_cookie = next(
        c for c in start.headers.get_list("set-cookie") if c.startswith(f"{STATE_COOKIE}=")
    )
    assert "; secure" in state_cookie.lower()


# --- refusals -----------------------------------------------------------------------------------


def test_an_unknown_subject_is_refused_and_no_account_is_made(
    client: TestClient, provider: OpenIDProvider
) -> None:
    before = user_count(client)
    answer = sign_in_through(client, provider)
    assert answer.status_code == 403
    assert "no CervixWatch account is linked" in answer.json()["detail"]
    assert SESSION_COOKIE not in client.cookies
    assert user_count(client) == before
    assert client.get("/auth/me").status_code == 401


def test_a_disabled_account_is_refused(client: TestClient, provider: OpenIDProvider) -> None:
    link_account(client, provider.subject)
    with client.app.state.sessions() as session:  # type: ignore[attr-defined]
        username = session.scalars(
            select(UserRow.username).where(UserRow.oidc_subject == provider.subject)
        ).one()
    accounts.set_disabled(client.app.state.sessions, username, True)  # type: ignore[attr-defined]
    answer = sign_in_through(client, provider)
    assert answer.status_code == 403
    assert "disabled" in answer.json()["detail"]
    assert client.get("/auth/me").status_code == 401


def test_a_tampered_state_is_refused(client: TestClient, provider: OpenIDProvider) -> None:
    link_account(client, provider.subject)
    path, query = back_from_provider(to_provider(client, provider))
    query["state"] = query["state"][:-1] + ("A" if query["state"][-1] != "A" else "B")
    answer = client.get(f"{path}?{urlencode(query)}", follow_redirects=False)
    assert answer.status_code == 401
    assert "mismatching_state" in answer.json()["detail"]
    assert client.get("/auth/me").status_code == 401


def test_a_callback_in_a_browser_that_did_not_start_the_sign_in_is_refused(
    client: TestClient, provider: OpenIDProvider
) -> None:
    # Login CSRF: someone else's code and state, sent through the victim's browser.
    link_account(client, provider.subject)
    path, query = back_from_provider(to_provider(client, provider))
    client.cookies.clear()
    answer = client.get(f"{path}?{urlencode(query)}", follow_redirects=False)
    assert answer.status_code == 401
    assert client.get("/auth/me").status_code == 401


def test_a_forged_state_cookie_is_ignored(client: TestClient, provider: OpenIDProvider) -> None:
    link_account(client, provider.subject)
    path, query = back_from_provider(to_provider(client, provider))
    # One character of the signature changed (not the last: in base64 its low bits may be
    # padding that decodes the same, which let this test pass a forged cookie now and then).
    cookie = client.cookies[STATE_COOKIE]
    at = len(cookie) - 10
    forged = cookie[:at] + ("A" if cookie[at] != "A" else "B") + cookie[at + 1 :]
    client.cookies.clear()
    client.cookies.set(STATE_COOKIE, forged, path=PREFIX)
    answer = client.get(f"{path}?{urlencode(query)}", follow_redirects=False)
    assert answer.status_code == 401


def test_a_code_is_good_once(client: TestClient, provider: OpenIDProvider) -> None:
    link_account(client, provider.subject)
    location = to_provider(client, provider)
    path, query = back_from_provider(location)
    state_cookie = client.cookies[STATE_COOKIE]
    assert client.get(f"{path}?{urlencode(query)}", follow_redirects=False).status_code == 303
    # Replayed with the state cookie it was issued with: the provider refuses the code.
    client.cookies.clear()
    client.cookies.set(STATE_COOKIE, state_cookie, path=PREFIX)
    replay = client.get(f"{path}?{urlencode(query)}", follow_redirects=False)
    assert replay.status_code == 401
    assert "invalid_grant" in replay.json()["detail"]


def test_the_providers_refusal_is_refused(client: TestClient, provider: OpenIDProvider) -> None:
    path, query = back_from_provider(to_provider(client, provider))
    denied = {"error": "access_denied", "state": query["state"]}
    answer = client.get(f"{path}?{urlencode(denied)}", follow_redirects=False)
    assert answer.status_code == 401
    assert "access_denied" in answer.json()["detail"]


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"aud": "another-client"}, id="another-audience"),
        # Authlib alone would take this one (its azp names us); the pinned audience does not.
        pytest.param({"aud": ["another-client"], "azp": CLIENT_ID}, id="not-in-audiences"),
        pytest.param({"iss": "https://impostor.example"}, id="another-issuer"),
        pytest.param({"nonce": "replayed"}, id="another-nonce"),
        pytest.param({"iat": 1_000_000_000, "exp": 1_000_000_300}, id="expired"),
    ],
)
def test_an_id_token_that_is_not_for_this_sign_in_is_refused(
    client: TestClient, provider: OpenIDProvider, bad: dict[str, Any]
) -> None:
    link_account(client, provider.subject)
    provider.tamper.update(bad)
    answer = sign_in_through(client, provider)
    assert answer.status_code == 401, answer.text
    assert "ID token is not valid" in answer.json()["detail"]
    assert client.get("/auth/me").status_code == 401


def test_an_id_token_not_signed_by_the_provider_is_refused(
    client: TestClient, provider: OpenIDProvider
) -> None:
    link_account(client, provider.subject)
    provider.forge_with = RSAKey.generate_key(2048)  # the fixture puts it back
    answer = sign_in_through(client, provider)
    assert answer.status_code == 401, answer.text
    assert "ID token is not valid" in answer.json()["detail"]
    assert client.get("/auth/me").status_code == 401


def test_an_unreachable_provider_is_a_bad_gateway(engine: Engine) -> None:
    with serving_provider() as gone:
        issuer = gone.issuer
    settings = test_settings(
        engine,
        oidc_issuer=issuer,
        oidc_client_id="x",
        oidc_client_secret="y",
        oidc_state_secret=STATE_SECRET,
    )
    with TestClient(oidc_app(settings)) as browser:
        answer = browser.get(SIGN_IN, follow_redirects=False)
    assert answer.status_code == 502


# --- configuration ------------------------------------------------------------------------------


def test_without_an_issuer_there_is_no_single_sign_on(engine: Engine) -> None:
    settings = test_settings(engine)
    assert oidc_router(settings) is None
    app = create_app(settings, today=lambda: TODAY)
    add_oidc(app, settings)
    with TestClient(app) as browser:
        assert browser.get(SIGN_IN, follow_redirects=False).status_code == 404
        assert browser.get(CALLBACK, follow_redirects=False).status_code == 404
        assert STATE_COOKIE not in browser.cookies


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("oidc_client_id", "CERVIXWATCH_OIDC_CLIENT_ID"),
        ("oidc_client_secret", "CERVIXWATCH_OIDC_CLIENT_SECRET"),
        ("oidc_state_secret", "CERVIXWATCH_OIDC_STATE_SECRET"),
    ],
)
def test_an_incomplete_configuration_stops_the_start(
    engine: Engine, missing: str, named: str
) -> None:
    values: dict[str, Any] = {
        "oidc_issuer": "https://sso.example",
        "oidc_client_id": "cervixwatch",
        "oidc_client_secret": "secret",
        "oidc_state_secret": STATE_SECRET,
        missing: None,
    }
    settings = test_settings(engine, **values)
    with pytest.raises(OIDCConfigurationError, match=named):
        add_oidc(FastAPI(), settings)


@pytest.mark.parametrize(
    ("setting", "value", "complaint"),
    [
        ("oidc_issuer", "http://sso.example", "https"),
        ("oidc_issuer", "https://sso.example/?tenant=1", "query"),
        ("oidc_state_secret", SecretStr("short"), "at least 32"),
    ],
)
def test_an_unsafe_configuration_stops_the_start(
    engine: Engine, setting: str, value: Any, complaint: str
) -> None:
    values: dict[str, Any] = {
        "oidc_issuer": "https://sso.example",
        "oidc_client_id": "cervixwatch",
        "oidc_client_secret": "secret",
        "oidc_state_secret": STATE_SECRET,
        setting: value,
    }
    with pytest.raises(OIDCConfigurationError, match=complaint):
        oidc_router(test_settings(engine, **values))
