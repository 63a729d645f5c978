"""The real app served over HTTP for clients we did not write (fhirpy, fhirclient): Uvicorn in
a thread of the test process, on a socket bound to a free port of 127.0.0.1 first, so that
nothing else can take the port between choosing and serving."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from sqlalchemy import Engine

from cervixwatch.web.app import create_app
from tests.web.accounts import test_settings
from tests.web.conftest import TODAY


@contextmanager
def served(engine: Engine) -> Iterator[str]:
    """The app on `engine`'s database (clock at `TODAY`); yields its base URL."""
    app = create_app(test_settings(engine), today=lambda: TODAY)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", ws="none", access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
