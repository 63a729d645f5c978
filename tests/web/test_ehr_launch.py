"""CervixWatch launched as a SMART app by an EHR (issue 14, part 2).

The EHR is written here (an in-test FHIR and OAuth server, served over HTTP by Uvicorn): its
SMART configuration, an authorization endpoint that checks what the launch sends (client,
redirect URI, `aud`, scopes, `state`, PKCE S256) and sends the browser back with a code, a
token endpoint that checks the PKCE verifier, and FHIR reads and searches of one patient
that need its token. The browser is a `TestClient` signed in through the form as a clinician.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from cervixwatch.app import accounts
from cervixwatch.settings import SmartEhr
from cervixwatch.store.database import session_factory
from cervixwatch.store.models import Role
from cervixwatch.web.app import create_app
from tests import fhir_builders as fb
from tests.pages.html import post_sign_in_form
from tests.store.tables import delete_everything, row_counts
from tests.web.accounts import PASSWORD, TEAM, test_settings
from tests.web.conftest import TODAY

CLIENT_ID = "cervixwatch-at-ehr"
EHR_PATIENT = "ehr-pat-1"
FRAMER = "https://ehr.example.org"


@dataclass
class Ehr:
    """The in-test EHR's state: what it was asked, and the codes and tokens it gave."""

    base: str = ""
    asked: list[dict[str, str]] = field(default_factory=list)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)

    @property
    def fhir(self) -> str:
        return f"{self.base}/fhir"


def _her_records() -> list[dict[str, Any]]:
    patient = fb.patient(EHR_PATIENT)
    patient["identifier"] = [{"system": "urn:oid:2.16.840.1.113883.4.642.99", "value": "E-77"}]
    patient["name"] = [{"family": "Ehrlaunch", "given": ["Ines"]}]
    records = [fb.edd("2026-07-04", rid="ehr-edd"), fb.cervical_length(18)]
    records[1]["id"] = "ehr-length"
    for record in records:
        record["subject"] = {"reference": f"Patient/{EHR_PATIENT}"}
    return [patient, *records]


def _ehr_app(ehr: Ehr) -> Starlette:
    def authorized(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.removeprefix("Bearer ") in ehr.tokens

    async def configuration(request: Request) -> Response:
        return JSONResponse(
            {
                "authorization_endpoint": f"{ehr.base}/auth",
                "token_endpoint": f"{ehr.base}/token",
                "code_challenge_methods_supported": ["S256"],
                "capabilities": ["launch-ehr", "launch-standalone", "client-public"],
            }
        )

    async def authorize(request: Request) -> Response:
        asked = dict(request.query_params)
        ehr.asked.append(asked)
        ok = (
            asked.get("client_id") == CLIENT_ID
            and asked.get("response_type") == "code"
            and asked.get("aud") == ehr.fhir
            and asked.get("code_challenge_method") == "S256"
            and ("launch" in asked) == ("launch" in asked.get("scope", "").split())
        )
        if not ok:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(16)
        ehr.codes[code] = asked
        answer = {"code": code, "state": asked["state"]}
        return RedirectResponse(f"{asked['redirect_uri']}?{urlencode(answer)}", status_code=302)

    async def token(request: Request) -> Response:
        form = dict(await request.form())
        asked = ehr.codes.pop(str(form.get("code")), None)
        verifier = str(form.get("code_verifier", ""))
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        if (
            asked is None
            or challenge != asked["code_challenge"]
            or form.get("redirect_uri") != asked["redirect_uri"]
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        access = secrets.token_urlsafe(16)
        ehr.tokens.add(access)
        return JSONResponse(
            {"access_token": access, "token_type": "Bearer", "patient": EHR_PATIENT}
        )

    async def read(request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
        kind, rid = request.path_params["kind"], request.path_params["rid"]
        for resource in _her_records():
            if resource["resourceType"] == kind and resource.get("id") == rid:
                return JSONResponse(resource)
        return JSONResponse({"resourceType": "OperationOutcome"}, status_code=404)

    async def search(request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
        kind = request.path_params["kind"]
        found = [
            r
            for r in _her_records()
            if r["resourceType"] == kind and request.query_params.get("patient") == EHR_PATIENT
        ]
        return JSONResponse(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [{"resource": r} for r in found],
            }
        )

    return Starlette(
        routes=[
            Route("/fhir/.well-known/smart-configuration", configuration),
            Route("/auth", authorize),
            Route("/token", token, methods=["POST"]),
            Route("/fhir/{kind}/{rid}", read),
            Route("/fhir/{kind}", search),
        ]
    )


@pytest.fixture
def ehr() -> Iterator[Ehr]:
    state = Ehr()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    state.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(_ehr_app(state), log_level="warning", access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the EHR did not start")
        time.sleep(0.01)
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def browser(engine: Engine, ehr: Ehr) -> Iterator[TestClient]:
    """CervixWatch set up to be launched by the EHR; a clinician signed in through the form."""
    delete_everything(engine)
    settings = test_settings(
        engine,
        smart_ehrs=[SmartEhr(iss=ehr.fhir, client_id=CLIENT_ID, frame_origins=[FRAMER])],
    )
    with TestClient(create_app(settings, today=lambda: TODAY)) as client:
        username = f"launcher-{secrets.token_hex(4)}"
        sessions = session_factory(engine)
        accounts.add_user(sessions, username, Role.CLINICIAN, password=PASSWORD, teams=(TEAM,))
        assert post_sign_in_form(client, username, PASSWORD).status_code == 303
        yield client
    delete_everything(engine)


def _to_ehr(browser: TestClient, ehr: Ehr, launch: str | None = "launch-token-1") -> str:
    """The launch: CervixWatch sends the browser to the EHR, which sends it back."""
    query = {"iss": ehr.fhir, **({"launch": launch} if launch else {})}
    started = browser.get(f"/smart/launch?{urlencode(query)}", follow_redirects=False)
    assert started.status_code == 303, started.text
    assert started.headers["location"].startswith(f"{ehr.base}/auth?")
    back = httpx2.get(started.headers["location"], follow_redirects=False)
    assert back.status_code == 302, back.text
    location = urlsplit(back.headers["location"])
    return f"{location.path}?{location.query}"


def test_an_ehr_launch_reads_her_records_and_shows_her_pregnancy(
    browser: TestClient, ehr: Ehr
) -> None:
    callback = _to_ehr(browser, ehr)
    [asked] = ehr.asked
    assert asked["launch"] == "launch-token-1"
    assert set(asked["scope"].split()) == {"launch", "openid", "fhirUser", "patient/*.rs"}
    assert asked["redirect_uri"] == "http://testserver/smart/callback"
    assert len(asked["state"]) >= 32
    shown = browser.get(callback, follow_redirects=False)
    assert shown.status_code == 303, shown.text
    assert shown.headers["location"].startswith("/pregnancies/")
    page = browser.get(shown.headers["location"])
    assert page.status_code == 200
    assert "Ehrlaunch" in page.text
    assert "18 mm" in page.text
    # The configured EHR may show it in its frame, and no one else.
    policy = page.headers["content-security-policy"]
    assert f"frame-ancestors 'self' {FRAMER}" in policy
    assert "x-frame-options" not in page.headers


def test_a_standalone_launch_asks_the_ehr_for_a_patient(browser: TestClient, ehr: Ehr) -> None:
    callback = _to_ehr(browser, ehr, launch=None)
    [asked] = ehr.asked
    assert "launch" not in asked
    assert "launch/patient" in asked["scope"].split()
    assert browser.get(callback, follow_redirects=False).status_code == 303


def test_a_callback_used_twice_stores_nothing_more(
    browser: TestClient, ehr: Ehr, engine: Engine
) -> None:
    callback = _to_ehr(browser, ehr)
    assert browser.get(callback, follow_redirects=False).status_code == 303
    before = row_counts(session_factory(engine))
    again = browser.get(callback, follow_redirects=False)
    assert again.status_code == 400
    assert "launch again" in again.text
    assert row_counts(session_factory(engine)) == before


def test_an_ehr_not_configured_is_refused(browser: TestClient, engine: Engine) -> None:
    before = row_counts(session_factory(engine))
    answer = browser.get(
        "/smart/launch?iss=https://elsewhere.example/fhir&launch=x", follow_redirects=False
    )
    assert answer.status_code == 400
    assert "not one CervixWatch is set up" in answer.text
    assert row_counts(session_factory(engine)) == before


def test_the_ehr_refusing_is_said_and_stores_nothing(
    browser: TestClient, ehr: Ehr, engine: Engine
) -> None:
    _to_ehr(browser, ehr)
    [asked] = ehr.asked
    before = row_counts(session_factory(engine))
    answer = browser.get(f"/smart/callback?error=access_denied&state={asked['state']}")
    assert answer.status_code == 403
    assert "access_denied" in answer.text
    assert row_counts(session_factory(engine)) == before


def test_a_forged_code_is_refused_by_the_ehr(browser: TestClient, ehr: Ehr) -> None:
    callback = _to_ehr(browser, ehr)
    state = parse_qs(urlsplit(callback).query)["state"][0]
    answer = browser.get(f"/smart/callback?code=forged&state={state}")
    assert answer.status_code == 400
    assert "invalid_grant" in answer.text


def test_without_frame_origins_no_page_may_be_framed(client: TestClient) -> None:
    page = client.get("/sign-in")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
