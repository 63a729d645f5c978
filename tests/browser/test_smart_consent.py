"""A clinician lets a SMART app in, in Chromium (issue 14, part 2): the app's authorization
request opens the consent page, she finds the woman by name, chooses her and allows; the
browser is sent back to the app's redirect URI with a code and the state. The page is
watched for content-security-policy violations: the form's redirect to the app must be
allowed by its `form-action` (browsers apply it to the redirect after a POST), and nothing
else."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Page, expect

from cervixwatch.app import smart_clients
from tests.browser.harness import LiveServer, axe, screenshot
from tests.web.api_builders import at


class _Callback(BaseHTTPRequestHandler):
    """The app's redirect URI: remembers what it was sent."""

    received: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.received.append(self.path)
        body = b"<!doctype html><title>App</title><p>Signed in to the app.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def callback() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Callback.received = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    finally:
        server.shutdown()
        server.server_close()


def _authorize_url(live: LiveServer, redirect_uri: str, client_id: str) -> str:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "launch/patient patient/*.rs openid fhirUser",
        "state": "state-123",
        "aud": f"{live.url}/fhir",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"/oauth/authorize?{urlencode(query)}"


def test_a_clinician_lets_an_app_read_one_woman(
    clinician: Page, live: LiveServer, callback: str
) -> None:
    written = live.seed("CW-SMART-1", at("20+0"), family_name="Appleby")
    client_id = f"viewer-{secrets.token_hex(4)}"
    smart_clients.add_app(
        live.app.state.sessions, client_id, name="Cervix Viewer", redirect_uris=[callback]
    )
    page = clinician
    page.goto(_authorize_url(live, callback, client_id))
    expect(page.get_by_role("heading", level=1)).to_have_text("Let Cervix Viewer in?")
    expect(page.locator("#smart-scopes")).to_contain_text("of the woman you choose")
    expect(page.locator("#smart-refused")).to_contain_text("openid, fhirUser")
    page.get_by_label("Name, hospital number or NHS number").fill("Appleby")
    page.get_by_role("button", name="Find").click()
    choice = page.get_by_label("Appleby", exact=False)
    expect(choice).to_be_checked()  # the only one found is chosen
    axe(page)
    screenshot(page, "smart-consent")
    page.get_by_role("button", name="Allow", exact=True).click()
    expect(page.locator("p")).to_have_text("Signed in to the app.")
    [sent] = [path for path in _Callback.received if path.startswith("/callback")]
    answer = parse_qs(urlsplit(sent).query)
    assert answer["state"] == ["state-123"]
    assert len(answer["code"][0]) >= 43
    assert written.patient_id  # stored before; the code names her (tests/web/test_smart_server)
