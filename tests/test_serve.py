"""`cervixwatch serve`: the production entry point starts Uvicorn on the app factory, migrates
the database, answers on the port it was given, and stops cleanly."""

from __future__ import annotations

import http.client
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.server_process import clean_environment, free_port, serve_command

STARTUP_SECONDS = 25


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_serve_answers_on_its_port_and_stops(tmp_path: Path) -> None:
    port = free_port()
    database = tmp_path / "serve.db"
    with subprocess.Popen(
        serve_command(port, database),
        env=clean_environment(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as server:
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            status = None
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    status, body = _get(f"http://127.0.0.1:{port}/openapi.json")
                    break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    time.sleep(0.2)
            assert status == 200, "the server did not answer /openapi.json"
            assert b'"CervixWatch"' in body
            assert database.exists()  # migrated on start
            metadata_status, _ = _get(f"http://127.0.0.1:{port}/fhir/metadata")
            assert metadata_status in (200, 404)  # 404 until the FHIR facade lands
            # An idle keep-alive connection outlives Uvicorn's default 5 s (a proxy's pool
            # closes it first: serving.KEEP_ALIVE_SECONDS).
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                for pause in (0, 6):
                    time.sleep(pause)
                    connection.request("GET", "/healthz")
                    assert connection.getresponse().read()
            finally:
                connection.close()
        finally:
            server.send_signal(signal.SIGINT)
            try:
                output, _ = server.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                output, _ = server.communicate()
    assert server.returncode == 0, output.decode(errors="replace")
    assert f"http://127.0.0.1:{port}/docs" in output.decode()
