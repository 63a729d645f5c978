"""The real receivers of notifications, started by the tests: an SMTP server (aiosmtpd) that
keeps every message it is handed, and an HTTP webhook receiver (a small server in a thread)
that checks each request's HMAC signature as docs/deployment.md tells a gateway to, and can
be told to fail its next requests or to answer slowly.

`client` is an app on the shared test database with its own dispatcher thread off, so each
test runs the dispatcher itself (`dispatch`) at the moments it chooses."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cervixwatch.app.notify_dispatch import DispatchRun, NotifyConfig, dispatch_once
from cervixwatch.web.app import create_app
from tests.store.tables import delete_everything
from tests.web.accounts import sign_in_as_clinician, test_settings
from tests.web.conftest import TODAY

SECRET = "0123456789abcdef0123456789abcdef-test-secret"
BASE_URL = "https://cervixwatch.hospital.test"
#: How old a signed request's timestamp may be, as a receiver should check it.
TOLERANCE_SECONDS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Mailbox:
    """What the SMTP server was handed."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(
                (list(envelope.rcpt_tos), message_from_bytes(envelope.original_content))
            )
        return "250 OK"

    def received(self) -> list[tuple[list[str], Message]]:
        with self.lock:
            return list(self.messages)


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: Mailbox


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, mailbox)
    finally:
        controller.stop()


@dataclass
class Delivery:
    """A request the webhook receiver accepted: its JSON body."""

    body: dict[str, Any]
    path: str


@dataclass
class Receiver:
    """The webhook receiver's state: what it accepted, what it refused, and how it behaves."""

    url: str
    accepted: list[Delivery] = field(default_factory=list)
    refused_signatures: int = 0
    #: Answer 500 to this many requests still.
    fail_next: int = 0
    failed: int = 0
    #: Seconds to wait before answering (so two dispatchers overlap).
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def verify_signature(secret: str, headers: Any, body: bytes, now: float) -> bool:
    """As docs/deployment.md tells a receiving gateway: recompute the HMAC over the timestamp,
    a full stop and the body as received; compare in constant time; refuse an old one."""
    timestamp = headers.get("X-CervixWatch-Timestamp", "")
    given = headers.get("X-CervixWatch-Signature", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(given, "sha256=" + expected.hexdigest())


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if receiver.delay:
                time.sleep(receiver.delay)
            with receiver.lock:
                if not verify_signature(SECRET, self.headers, body, time.time()):
                    receiver.refused_signatures += 1
                    status = 401
                elif receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    receiver.failed += 1
                    status = 500
                else:
                    receiver.accepted.append(Delivery(json.loads(body), self.path))
                    status = 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def webhook() -> Iterator[Receiver]:
    receiver = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/page-the-team"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def config(smtp: SmtpServer) -> NotifyConfig:
    """The dispatcher's configuration: the test SMTP server (no TLS on it), quick retries."""
    return NotifyConfig(
        base_url=BASE_URL,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_starttls=False,
        smtp_from="cervixwatch@hospital.test",
        timeout_seconds=5.0,
        max_attempts=4,
        retry_seconds=0.01,
        retry_max_seconds=0.05,
    )


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """A clinician of the test team, on an app whose own dispatcher thread is off."""
    delete_everything(engine)
    settings = test_settings(engine, notify_in_server=False, public_base_url=BASE_URL)
    with TestClient(create_app(settings, today=lambda: TODAY)) as test_client:
        sign_in_as_clinician(test_client)
        yield test_client
    delete_everything(engine)


def dispatch(client: TestClient, config: NotifyConfig, **options: Any) -> DispatchRun:
    return dispatch_once(client.app.state.sessions, config, **options)  # type: ignore[attr-defined]
