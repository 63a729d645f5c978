"""CervixWatch as a SMART on FHIR authorization server (issue 14, part 2).

The standalone launch is driven by fhirclient (SMART's own Python client, which we did not
write) against the app served over HTTP: it reads the CapabilityStatement's oauth-uris, sends
the browser to authorize with PKCE S256 and state, and exchanges the code. The browser is a
`TestClient` of the same database, signed in through the form, that approves on the consent
page. A backend service signs its JWT with a key made here (joserfc). Refusals change nothing
and say why, as RFC 6749 and SMART ask.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from fastapi.testclient import TestClient
from fhirclient import client as smart_client
from fhirclient.models.observation import Observation
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import Engine, delete, func, select

from cervixwatch.app import accounts, smart_clients
from cervixwatch.store.database import session_factory
from cervixwatch.store.models import ApiTokenRow, Role, TeamPatientRow
from cervixwatch.web.app import create_app
from tests import fhir_builders as fb
from tests.pages.html import post_sign_in_form
from tests.store.tables import delete_everything
from tests.web import live_server
from tests.web.accounts import PASSWORD, TEAM, sign_in_as_clinician, test_settings
from tests.web.conftest import TODAY
from tests.web.fhir_client import import_ok

HOSPITAL = "urn:oid:1.2.826.0.1.1"
APP = "cervix-viewer"
CALLBACK = "http://127.0.0.1:9/callback"


@dataclass
class Site:
    base: str
    browser: TestClient
    sessions: Any
    women: dict[str, str]
    clinician: str


def _woman(setup: TestClient, number: str, family: str, length: float) -> str:
    """A woman imported under her own source ids (`number` in each)."""
    patient = fb.patient(number)
    patient["identifier"] = [{"system": HOSPITAL, "value": number}]
    patient["name"] = [{"family": family, "given": ["Ada"]}]
    records = [fb.edd("2026-07-04", rid=f"edd-{number}"), fb.cervical_length(length)]
    for record in records:
        record["subject"] = {"reference": f"Patient/{number}"}
    records[1]["id"] = f"length-{number}"
    return import_ok(setup, fb.bundle(patient, *records, with_patient=False))


@pytest.fixture
def site(engine: Engine) -> Iterator[Site]:
    """The app over HTTP, two women of one care team, an app registered, and a browser
    signed in as a clinician of that team."""
    delete_everything(engine)
    sessions = session_factory(engine)
    setup_app = create_app(test_settings(engine), today=lambda: TODAY)
    with TestClient(setup_app) as setup:
        sign_in_as_clinician(setup)
        women = {
            "SM-0001": _woman(setup, "SM-0001", "Smartfield", 24),
            "SM-0002": _woman(setup, "SM-0002", "Otherfield", 31),
        }
    try:
        with live_server.served(engine) as base:
            smart_clients.add_app(
                sessions,
                APP,
                name="Cervix Viewer",
                redirect_uris=[CALLBACK],
                scopes="launch/patient patient/*.rs user/*.rs",
            )
            app = create_app(test_settings(engine, smart_base_url=base), today=lambda: TODAY)
            with TestClient(app) as browser:
                clinician = f"smart-clinician-{uuid.uuid4().hex[:8]}"
                accounts.add_user(
                    sessions, clinician, Role.CLINICIAN, password=PASSWORD, teams=(TEAM,)
                )
                assert post_sign_in_form(browser, clinician, PASSWORD).status_code == 303
                yield Site(base, browser, sessions, women, clinician)
    finally:
        delete_everything(engine)


def _fhirclient(site: Site, scope: str = "patient/*.rs") -> smart_client.FHIRClient:
    settings = {
        "app_id": APP,
        "api_base": f"{site.base}/fhir/",
        "redirect_uri": CALLBACK,
        "scope": scope,
    }
    return smart_client.FHIRClient(settings=settings)


def _consent(site: Site, authorize_url: str, *, search: str | None = None) -> str:
    parts = urlsplit(authorize_url)
    assert f"{parts.scheme}://{parts.netloc}" == site.base
    target = f"{parts.path}?{parts.query}"
    if search is not None:
        target += f"&patient_search={search}"
    page = site.browser.get(target)
    assert page.status_code == 200, page.text
    return page.text


def _approve(site: Site, page: str, **extra: str) -> httpx2.Response:
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    form = {k: v.replace("&amp;", "&").replace("&#34;", '"') for k, v in form.items()}
    form.update(extra)
    return site.browser.post("/oauth/authorize", data=form, follow_redirects=False)


def _launch(site: Site, number: str = "SM-0001") -> smart_client.FHIRClient:
    """A standalone launch by fhirclient, approved for the woman `number`."""
    smart = _fhirclient(site)
    page = _consent(site, smart.authorize_url, search=number)
    woman = site.women[number]
    assert "Cervix Viewer" in page
    assert woman in page
    answer = _approve(site, page, decision="approve", patient_id=woman)
    assert answer.status_code == 303, answer.text
    smart.handle_callback(answer.headers["location"])
    return smart


def test_the_configuration_names_the_endpoints_and_pkce(site: Site) -> None:
    for path in ("/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"):
        conf = httpx2.get(site.base + path).json()
        assert conf["authorization_endpoint"] == f"{site.base}/oauth/authorize"
        assert conf["token_endpoint"] == f"{site.base}/oauth/token"
        assert conf["code_challenge_methods_supported"] == ["S256"]
        assert {"authorization_code", "client_credentials"} <= set(conf["grant_types_supported"])
        assert "launch-standalone" in conf["capabilities"]
        assert "launch-ehr" not in conf["capabilities"]
        assert "private_key_jwt" in conf["token_endpoint_auth_methods_supported"]
    statement = httpx2.get(site.base + "/fhir/metadata").json()
    security = statement["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    uris = {e["url"]: e["valueUri"] for e in security["extension"][0]["extension"]}
    assert uris == {
        "authorize": f"{site.base}/oauth/authorize",
        "token": f"{site.base}/oauth/token",
    }


def test_fhirclient_launches_standalone_and_reads_the_chosen_woman(site: Site) -> None:
    smart = _launch(site)
    woman = site.women["SM-0001"]
    assert smart.patient_id == woman
    assert smart.patient is not None
    assert smart.patient.name[0].family == "Smartfield"
    lengths = list(
        Observation.where(struct={"patient": woman}).perform_resources_iter(smart.server)
    )
    assert 24 in [o.valueQuantity.value for o in lengths if o.valueQuantity]
    # The other woman of the same team is out of reach: the token's scopes are patient/.
    other = site.women["SM-0002"]
    token = smart.server.auth.access_token
    answer = httpx2.get(f"{site.base}/fhir/Patient/{other}", headers=_bearer(token))
    assert answer.status_code == 404
    searched = httpx2.get(f"{site.base}/fhir/Patient", headers=_bearer(token)).json()
    assert [e["resource"]["id"] for e in searched.get("entry", [])] == [woman]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_smart_token_reaches_the_fhir_api_only_and_writes_nothing(site: Site) -> None:
    token = _launch(site).server.auth.access_token
    assert httpx2.get(f"{site.base}/api/worklist", headers=_bearer(token)).status_code == 403
    assert httpx2.get(f"{site.base}/worklist", headers=_bearer(token)).status_code == 403
    # Granted patient/*.rs: a Bundle POST needs create and update.
    bundle = fb.bundle(fb.patient(), fb.edd("2026-07-04"))
    answer = httpx2.post(
        f"{site.base}/fhir",
        json=bundle,
        headers={**_bearer(token), "Content-Type": "application/fhir+json"},
    )
    assert answer.status_code == 403
    assert "insufficient_scope" in answer.headers["www-authenticate"]


def test_the_consent_page_refuses_a_redirect_uri_not_registered(site: Site) -> None:
    smart = _fhirclient(site)
    url = smart.authorize_url.replace("127.0.0.1%3A9%2Fcallback", "evil.example%2Fcb")
    page = site.browser.get(url[len(site.base) :], follow_redirects=False)
    assert page.status_code == 400
    assert "location" not in page.headers


def test_an_authorization_without_pkce_goes_back_with_an_error(site: Site) -> None:
    url = _fhirclient(site).authorize_url
    without = re.sub(r"&code_challenge=[^&]+", "", url)
    answer = site.browser.get(without[len(site.base) :], follow_redirects=False)
    assert answer.status_code == 303
    sent = parse_qs(urlsplit(answer.headers["location"]).query)
    assert sent["error"] == ["invalid_request"]
    assert "state" in sent


def _smart_tokens(site: Site) -> int:
    with site.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(ApiTokenRow)
                .where(ApiTokenRow.smart_client_id.is_not(None))
            )
            or 0
        )


def test_denying_sends_access_denied_and_issues_nothing(site: Site) -> None:
    before = _smart_tokens(site)
    smart = _fhirclient(site)
    page = _consent(site, smart.authorize_url, search="SM-0001")
    answer = _approve(site, page, decision="deny")
    sent = parse_qs(urlsplit(answer.headers["location"]).query)
    assert sent["error"] == ["access_denied"]
    assert sent["state"] == [smart.server.auth.auth_state]
    assert _smart_tokens(site) == before


def _code_and_verifier(site: Site) -> tuple[smart_client.FHIRClient, str]:
    smart = _fhirclient(site)
    page = _consent(site, smart.authorize_url, search="SM-0001")
    answer = _approve(site, page, decision="approve", patient_id=site.women["SM-0001"])
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    return smart, code


def _exchange(site: Site, code: str, verifier: str) -> httpx2.Response:
    return httpx2.post(
        f"{site.base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": APP,
            "code_verifier": verifier,
        },
    )


def test_a_wrong_pkce_verifier_gets_invalid_grant(site: Site) -> None:
    _, code = _code_and_verifier(site)
    answer = _exchange(site, code, "x" * 43)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert answer.headers["cache-control"] == "no-store"


def test_a_code_used_twice_is_refused_and_its_token_revoked(site: Site) -> None:
    smart, code = _code_and_verifier(site)
    verifier = smart.server.auth.code_verifier
    first = _exchange(site, code, verifier)
    assert first.status_code == 200, first.text
    token = first.json()["access_token"]
    woman = site.women["SM-0001"]
    assert (
        httpx2.get(f"{site.base}/fhir/Patient/{woman}", headers=_bearer(token)).status_code == 200
    )
    again = _exchange(site, code, verifier)
    assert again.json()["error"] == "invalid_grant"
    assert (
        httpx2.get(f"{site.base}/fhir/Patient/{woman}", headers=_bearer(token)).status_code == 401
    )


def test_a_token_stops_when_the_app_is_disabled(site: Site) -> None:
    token = _launch(site).server.auth.access_token
    woman = site.women["SM-0001"]
    smart_clients.disable(site.sessions, APP)
    assert (
        httpx2.get(f"{site.base}/fhir/Patient/{woman}", headers=_bearer(token)).status_code == 401
    )


# --- backend services ------------------------------------------------------------------------


@pytest.fixture
def backend(site: Site) -> RSAKey:
    key = RSAKey.generate_key(2048, parameters={"kid": "backend-1", "alg": "RS384"})
    service = f"svc-{uuid.uuid4().hex[:8]}"
    accounts.add_user(site.sessions, service, Role.CLINICIAN, password=None, teams=(TEAM,))
    smart_clients.add_backend(
        site.sessions,
        "registry-sync",
        name="Registry sync",
        jwks={"keys": [key.as_dict(private=False)]},
        username=service,
        scopes="system/*.rs",
    )
    return key


def _assertion(site: Site, key: RSAKey, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": "registry-sync",
        "sub": "registry-sync",
        "aud": f"{site.base}/oauth/token",
        "exp": now + 240,
        "jti": uuid.uuid4().hex,
        **changes,
    }
    header = {"alg": "RS384", "kid": "backend-1", "typ": "JWT"}
    return jwt.encode(header, claims, key, algorithms=["RS384"])


def _client_credentials(site: Site, assertion: str, scope: str = "system/*.rs") -> httpx2.Response:
    return httpx2.post(
        f"{site.base}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )


def test_a_backend_service_gets_a_system_token_and_reads(site: Site, backend: RSAKey) -> None:
    answer = _client_credentials(site, _assertion(site, backend))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "system/*.rs"
    assert body["expires_in"] == 3600
    found = httpx2.get(f"{site.base}/fhir/Patient", headers=_bearer(body["access_token"]))
    assert found.status_code == 200
    assert len(found.json()["entry"]) == 2


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"aud": "https://elsewhere.example/token"}, id="another-audience"),
        pytest.param({"exp": int(time.time()) - 120}, id="expired"),
        pytest.param({"exp": int(time.time()) + 3600}, id="lives-too-long"),
        pytest.param({"iss": "someone-else", "sub": "someone-else"}, id="unknown-client"),
    ],
)
def test_a_bad_client_assertion_gets_invalid_client(
    site: Site, backend: RSAKey, changes: dict[str, Any]
) -> None:
    answer = _client_credentials(site, _assertion(site, backend, **changes))
    assert answer.status_code in (400, 401)
    assert answer.json()["error"] == "invalid_client"


def test_an_assertion_signed_by_another_key_or_replayed_is_refused(
    site: Site, backend: RSAKey
) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "backend-1"})
    assert _client_credentials(site, _assertion(site, stranger)).json()["error"] == "invalid_client"
    assertion = _assertion(site, backend)
    assert _client_credentials(site, assertion).status_code == 200
    replayed = _client_credentials(site, assertion)
    assert replayed.json()["error"] == "invalid_client"
    assert "jti" in replayed.json()["error_description"]


def test_a_backend_service_cannot_be_granted_user_scopes(site: Site, backend: RSAKey) -> None:
    answer = _client_credentials(site, _assertion(site, backend), scope="user/*.rs")
    assert answer.json()["error"] == "invalid_scope"


def test_a_patient_lets_an_app_read_her_own_record_only(site: Site, engine: Engine) -> None:
    woman = site.women["SM-0001"]
    username = f"smart-patient-{uuid.uuid4().hex[:8]}"
    accounts.add_user(site.sessions, username, Role.PATIENT, password=PASSWORD, patient_id=woman)
    app = create_app(test_settings(engine, smart_base_url=site.base), today=lambda: TODAY)
    with TestClient(app) as her_browser:
        assert post_sign_in_form(her_browser, username, PASSWORD).status_code == 303
        smart = _fhirclient(site)
        parts = urlsplit(smart.authorize_url)
        page = her_browser.get(f"{parts.path}?{parts.query}")
        assert page.status_code == 200
        assert "your own record" in page.text
        assert "Which woman?" not in page.text
        mine = Site(site.base, her_browser, site.sessions, site.women, username)
        answer = _approve(mine, page.text, decision="approve")
        assert answer.status_code == 303, answer.text
        smart.handle_callback(answer.headers["location"])
    assert smart.patient_id == woman
    token = smart.server.auth.access_token
    assert (
        httpx2.get(f"{site.base}/fhir/Patient/{woman}", headers=_bearer(token)).status_code == 200
    )
    other = site.women["SM-0002"]
    assert (
        httpx2.get(f"{site.base}/fhir/Patient/{other}", headers=_bearer(token)).status_code == 404
    )


def test_an_admin_cannot_let_an_app_in(site: Site, engine: Engine) -> None:
    username = f"smart-admin-{uuid.uuid4().hex[:8]}"
    accounts.add_user(site.sessions, username, Role.ADMIN, password=PASSWORD)
    app = create_app(test_settings(engine, smart_base_url=site.base), today=lambda: TODAY)
    with TestClient(app) as admin:
        assert post_sign_in_form(admin, username, PASSWORD).status_code == 303
        parts = urlsplit(_fhirclient(site).authorize_url)
        assert admin.get(f"{parts.path}?{parts.query}").status_code == 403


def test_a_patient_scoped_token_stops_when_she_leaves_the_clinicians_teams(site: Site) -> None:
    token = _launch(site).server.auth.access_token
    woman = site.women["SM-0001"]
    assert httpx2.get(f"{site.base}/fhir/Observation", headers=_bearer(token)).status_code == 200
    with site.sessions.begin() as session:
        session.execute(delete(TeamPatientRow).where(TeamPatientRow.patient_id == woman))
    for path in (f"/fhir/Patient/{woman}", "/fhir/Observation", "/fhir/Patient"):
        assert httpx2.get(f"{site.base}{path}", headers=_bearer(token)).status_code in (403, 404)


def test_the_token_endpoint_is_rate_limited_per_address(engine: Engine) -> None:
    app = create_app(test_settings(engine, sign_in_rate_limit="2/minute"), today=lambda: TODAY)
    with TestClient(app) as client:
        form = {"grant_type": "password", "username": "x", "password": "y"}
        answers = [client.post("/oauth/token", data=form) for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 429]
    assert answers[0].json()["error"] == "unsupported_grant_type"
    assert int(answers[2].headers["retry-after"]) >= 1
