"""Issue 12, low finding: `X-Forwarded-For` and `Host` were believed from anywhere on
loopback. Uvicorn believed `X-Forwarded-For` (and `X-Forwarded-Proto`) from any process on
127.0.0.1 (its default `forwarded_allow_ips`), so a client there chose the address that the
rate limits, the sign-in back-off and the audit log saw; and any `Host` was answered.

Now proxies are believed only when named (`CERVIXWATCH_TRUSTED_PROXIES`, none by default), and
a `Host` not allowed (`CERVIXWATCH_ALLOWED_HOSTS`; by default what the server listens on and
localhost) is answered 400. The proxy headers are Uvicorn's to read, so those tests run a real
`cervixwatch serve`; the `Host` check is the app's, tested in process too.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select

from cervixwatch.settings import Settings
from cervixwatch.store.models import AuditEventRow
from cervixwatch.web.app import create_app
from cervixwatch.web.hosts import allowed_hosts
from tests.server_process import clean_environment, free_port, serve_command
from tests.web.accounts import test_settings
from tests.web.conftest import TODAY

STARTUP_SECONDS = 25
#: An address of the documentation range: what a client on loopback claims to be.
CLAIMED = "203.0.113.9"


# --- Host, in process --------------------------------------------------------------------------


def test_by_default_only_the_listened_address_and_localhost_are_answered(engine: Engine) -> None:
    settings = test_settings(engine, allowed_hosts=None, host="127.0.0.1")
    app = create_app(settings, today=lambda: TODAY)
    with TestClient(app, base_url="http://127.0.0.1:8000") as ours:
        assert ours.get("/healthz").status_code == 200
        refused = ours.get("/healthz", headers={"Host": "attacker.example"})
        assert refused.status_code == 400
        assert refused.headers["X-Content-Type-Options"] == "nosniff"
        refused_sign_in = ours.post(
            "/auth/sign-in",
            json={"username": "x", "password": "y"},
            headers={"Host": "attacker.example"},
        )
        assert refused_sign_in.status_code == 400
    with TestClient(app, base_url="http://localhost:8000") as local:
        assert local.get("/healthz").status_code == 200


def test_allowed_hosts_are_the_setting_when_set(engine: Engine) -> None:
    settings = test_settings(engine, allowed_hosts=["cervixwatch.example.org"])
    app = create_app(settings, today=lambda: TODAY)
    with TestClient(app, base_url="https://cervixwatch.example.org") as named:
        assert named.get("/healthz").status_code == 200
    with TestClient(app, base_url="http://127.0.0.1:8000") as loopback:
        assert loopback.get("/healthz").status_code == 400


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", ["127.0.0.1", "localhost"]),
        ("cervixwatch.internal", ["cervixwatch.internal", "localhost", "127.0.0.1"]),
        ("0.0.0.0", ["localhost", "127.0.0.1"]),
        ("::", ["localhost", "127.0.0.1"]),
    ],
)
def test_the_default_follows_what_serve_listens_on(host: str, allowed: list[str]) -> None:
    assert allowed_hosts(Settings(host=host, allowed_hosts=None)) == allowed


# --- proxy headers, through `cervixwatch serve` -----------------------------------------------


@contextmanager
def _serving(tmp_path: Path, **settings: str) -> Iterator[tuple[int, Path]]:
    """`cervixwatch serve` on 127.0.0.1 with these CERVIXWATCH_ settings: (port, database)."""
    port, database = free_port(), tmp_path / f"served-{len(settings)}.db"
    environment = clean_environment() | {f"CERVIXWATCH_{k.upper()}": v for k, v in settings.items()}
    with subprocess.Popen(
        serve_command(port, database),
        env=environment,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as server:
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                try:
                    _request(port, "GET", "/healthz", {"Host": f"127.0.0.1:{port}"})
                    break
                except OSError:
                    assert server.poll() is None, server.stderr.read() if server.stderr else ""
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.2)
            yield port, database
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.communicate()


def _request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer
    finally:
        connection.close()


def _sign_in(port: int, username: str, headers: dict[str, str]) -> int:
    body = json.dumps({"username": username, "password": "not the password"}).encode()
    json_headers = {**headers, "Content-Type": "application/json"}
    return _request(port, "POST", "/auth/sign-in", json_headers, body).status


def _addresses(database: Path) -> set[str | None]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            return set(connection.scalars(select(AuditEventRow.client_address)))
    finally:
        engine.dispose()


def test_a_loopback_client_cannot_choose_its_address_or_scheme(tmp_path: Path) -> None:
    """The attack: from loopback, a new `X-Forwarded-For` (and a new username) for each guess
    escaped the sign-in rate limit by address (10 a minute), the audit log recorded the
    claimed address, and `X-Forwarded-Proto: https` made the app think it was on TLS."""
    with _serving(tmp_path) as (port, database):
        own = {"Host": f"127.0.0.1:{port}"}
        answers = [
            _sign_in(port, f"guess-{n}", {**own, "X-Forwarded-For": f"203.0.113.{n}"})
            for n in range(1, 13)
        ]
        assert answers[:10] == [401] * 10
        assert 429 in answers[10:], answers
        tls = _request(port, "GET", "/healthz", {**own, "X-Forwarded-Proto": "https"})
        assert tls.status == 200
        assert tls.getheader("Strict-Transport-Security") is None
        assert _addresses(database) == {"127.0.0.1"}
        # ... and a Host of the client's choosing is refused.
        assert _request(port, "GET", "/healthz", {"Host": "attacker.example"}).status == 400
        assert _request(port, "GET", "/healthz", {"Host": f"localhost:{port}"}).status == 200


def test_a_trusted_proxy_is_believed_and_named_hosts_answered(tmp_path: Path) -> None:
    settings = {
        "trusted_proxies": '["127.0.0.1"]',
        "allowed_hosts": '["cervixwatch.example.org"]',
    }
    with _serving(tmp_path, **settings) as (port, database):
        named = {"Host": "cervixwatch.example.org"}
        proxied = {**named, "X-Forwarded-For": CLAIMED, "X-Forwarded-Proto": "https"}
        answer = _request(port, "GET", "/healthz", proxied)
        assert answer.status == 200
        assert answer.getheader("Strict-Transport-Security") is not None
        assert _sign_in(port, "someone", proxied) == 401
        assert CLAIMED in _addresses(database)
        assert _request(port, "GET", "/healthz", {"Host": f"127.0.0.1:{port}"}).status == 400


@pytest.fixture(autouse=True)
def _no_settings_from_this_environment() -> Iterator[None]:
    """The served processes get only the settings a test gives (`clean_environment`)."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("CERVIXWATCH_")}
    yield
    assert {k: v for k, v in os.environ.items() if k.startswith("CERVIXWATCH_")} == saved
