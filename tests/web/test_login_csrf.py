"""Login CSRF (issue 12, low finding): a form on another site posted an attacker's username
and password to the sign-in, and the victim's browser was then signed in as the attacker.

A browser is a fresh `TestClient` (its own cookie jar). What a browser adds on its own to a
cross-site form's post is sent as it would send it: `Origin` and `Sec-Fetch-Site`, or neither
(an old browser). The attack through a real browser is in tests/browser/test_sign_in.py.
"""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from cervixwatch.store.models import AuditOutcome, Role
from tests.pages.html import post_sign_in_form
from tests.web.accounts import PASSWORD, make_user
from tests.web.test_audit_log import only_entry

#: What Chromium sends with a form posted from a page of another site.
CROSS_SITE = {"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"}
#: What each kind of browser that posts from another site says about it.
FROM_ANOTHER_SITE = [
    pytest.param(CROSS_SITE, id="fetch-metadata"),
    pytest.param({"Sec-Fetch-Site": "same-site"}, id="sibling-subdomain"),
    pytest.param({"Origin": "https://attacker.example"}, id="origin-only"),
    pytest.param({"Origin": "null"}, id="opaque-origin"),
    pytest.param({}, id="old-browser"),
]


def _browser(client: TestClient) -> TestClient:
    return TestClient(client.app)


def _attacker(client: TestClient) -> str:
    username, _ = make_user(client, Role.CLINICIAN)
    return username


def _signed_in(browser: TestClient, answer: Response) -> bool:
    """Whether the answer gave the browser a sign-in (and the browser now acts for it)."""
    return "cw_session" in answer.headers.get("set-cookie", "") or (
        browser.get("/auth/me").status_code == 200
    )


@pytest.mark.parametrize("headers", FROM_ANOTHER_SITE)
def test_another_sites_form_cannot_sign_the_browser_in_on_the_page(
    client: TestClient, headers: dict[str, str]
) -> None:
    attacker = _attacker(client)
    victim = _browser(client)
    form = {"username": attacker, "password": PASSWORD}

    answer = victim.post("/sign-in", data=form, headers=headers, follow_redirects=False)

    assert answer.status_code == 403, answer.text
    assert not _signed_in(victim, answer)
    assert attacker not in answer.text
    assert "did not come from this page" in answer.text
    entry = only_entry(client, answer)
    assert (entry.action, entry.outcome) == ("sign-in", AuditOutcome.DENIED)


@pytest.mark.parametrize("headers", FROM_ANOTHER_SITE)
def test_another_sites_form_cannot_sign_the_browser_in_at_the_api(
    client: TestClient, headers: dict[str, str]
) -> None:
    attacker = _attacker(client)
    victim = _browser(client)
    form = {"username": attacker, "password": PASSWORD}

    as_form = victim.post("/auth/sign-in", data=form, headers=headers)
    # <form enctype="text/plain"> smuggles JSON: <input name='{"username":"..","password":".."
    # ,"x":"' value='"}'>.
    smuggled = orjson.dumps({**form, "x": "="})
    as_text = victim.post(
        "/auth/sign-in", content=smuggled, headers={**headers, "Content-Type": "text/plain"}
    )

    for answer in (as_form, as_text):
        assert answer.status_code == 403, answer.text
        assert not _signed_in(victim, answer)


def test_another_sites_script_cannot_sign_in_with_json(client: TestClient) -> None:
    attacker = _attacker(client)
    victim = _browser(client)
    body = {"username": attacker, "password": PASSWORD}
    answer = victim.post("/auth/sign-in", json=body, headers=CROSS_SITE)
    assert answer.status_code == 403
    assert not _signed_in(victim, answer)


def test_a_json_client_without_cookies_still_signs_in(client: TestClient) -> None:
    username, _ = make_user(client, Role.CLINICIAN)
    for headers in ({}, {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"}):
        integration = _browser(client)
        body = {"username": username, "password": PASSWORD}
        answer = integration.post("/auth/sign-in", json=body, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["username"] == username
        assert integration.get("/auth/me").status_code == 200


def test_the_sign_in_page_signs_in_with_its_own_token(client: TestClient) -> None:
    username, _ = make_user(client, Role.CLINICIAN)
    browser = _browser(client)
    answer = post_sign_in_form(browser, username, PASSWORD)
    assert answer.status_code == 303, answer.text
    assert browser.get("/auth/me").json()["username"] == username

    # The same page's form posted as Chromium posts it from our own origin.
    again = _browser(client)
    page = again.get("/sign-in")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    same_origin = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    form = {"csrf_token": token, "username": username, "password": PASSWORD}
    done = again.post("/sign-in", data=form, headers=same_origin, follow_redirects=False)
    assert done.status_code == 303, done.text
    # ... and the API's form too, with the page's token.
    api = again.post("/auth/sign-in", data=form, headers=same_origin)
    assert api.status_code == 200, api.text


def test_a_token_is_good_only_with_its_own_cookie(client: TestClient) -> None:
    """An attacker who has a token of his own (from his own visit to the page) cannot post
    it from the victim's browser: her browser sends her cookie, or none."""
    attacker = _attacker(client)
    his = _browser(client)
    token = his.get("/sign-in").text.split('name="csrf_token" value="')[1].split('"')[0]
    victim = _browser(client)
    victim.get("/sign-in")  # she has a pre-session cookie of her own
    form = {"csrf_token": token, "username": attacker, "password": PASSWORD}
    answer = victim.post("/sign-in", data=form, follow_redirects=False)
    assert answer.status_code == 403
    assert not _signed_in(victim, answer)
    fresh = _browser(client)  # no cookie at all
    answer = fresh.post("/sign-in", data=form, follow_redirects=False)
    assert answer.status_code == 403
    assert not _signed_in(fresh, answer)


def test_the_pre_session_cookie_is_strict_and_hidden_from_scripts(client: TestClient) -> None:
    page = _browser(client).get("/sign-in")
    cookie = page.headers["set-cookie"].lower()
    assert cookie.startswith("cw_sign_in=")
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    secure = TestClient(client.app, base_url="https://testserver").get("/sign-in")
    assert secure.headers["set-cookie"].startswith("__Host-cw_sign_in=")
    assert "secure" in secure.headers["set-cookie"].lower()
