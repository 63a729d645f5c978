"""Operations on a real `cervixwatch serve --workers 2` (issue 12, part 7): /metrics sums the
requests of every worker (prometheus_client's multiprocess mode, the directory set by the
command), counts them by route template, and shows no patient data; with
`CERVIXWATCH_LOG_FORMAT=json` every line the server writes is a JSON object, the access lines
carry the id each answer was sent with, and no line holds the woman's name or number."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cervixwatch.app import accounts
from cervixwatch.serving import spreads_connections
from cervixwatch.store.database import make_engine, session_factory
from cervixwatch.store.migrate import upgrade
from cervixwatch.store.models import Role
from tests.server_process import clean_environment, free_port, serve_command

pytestmark = pytest.mark.skipif(
    not spreads_connections(), reason="several workers with SO_REUSEPORT on Linux only"
)

FAMILY, GIVEN, BORN, NUMBER = "Marchbanks", "Perpetua", "1990-08-23", "OPS0077"
SECRETS = (FAMILY, GIVEN, BORN, NUMBER, "Marchb", "Perpet", "1990-08")
STARTUP_SECONDS = 60
#: Requests to the search route, each on a connection of its own, so both workers get some.
SEARCHES = 24


def _token(database: Path) -> str:
    url = f"sqlite:///{database}"
    upgrade(url)
    engine = make_engine(url)
    try:
        sessions = session_factory(engine)
        accounts.add_user(sessions, "ops-clinician", Role.CLINICIAN, teams=("Ops team",))
        return accounts.issue_token(sessions, "ops-clinician", "tests", days=1).secret
    finally:
        engine.dispose()


def _ask(
    port: int, method: str, path: str, token: str | None = None, body: Any = None
) -> tuple[int, str, str]:
    """Status, `X-Request-ID` and body of one request on a new connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(
            method, path, body=None if body is None else json.dumps(body), headers=headers
        )
        answer = connection.getresponse()
        return answer.status, answer.getheader("X-Request-ID") or "", answer.read().decode()
    finally:
        connection.close()


def _wait_until_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            if _ask(port, "GET", "/readyz")[0] == 200:
                return
        except OSError:
            pass
        assert server.poll() is None, "the server stopped"
        assert time.monotonic() < deadline, "the server did not become ready"
        time.sleep(0.2)


def _requests_by_route(metrics: str) -> dict[tuple[str, str, str], float]:
    counted: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(metrics):
        if family.name == "cervixwatch_http_requests":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    labels = sample.labels
                    key = (labels["method"], labels["route"], labels["status"])
                    counted[key] = counted.get(key, 0) + sample.value
    return counted


def test_metrics_sum_every_worker_and_json_logs_carry_request_ids(tmp_path: Path) -> None:
    database = tmp_path / "ops.db"
    token = _token(database)
    port = free_port()
    environment = {**clean_environment(), "CERVIXWATCH_LOG_FORMAT": "json"}
    command = serve_command(port, database, "--workers", "2")
    command[command.index("--log-level") + 1] = "info"
    sent_ids: list[str] = []
    with subprocess.Popen(
        command, env=environment, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as server:
        try:
            _wait_until_ready(port, server)
            woman = {
                "hospital_number": NUMBER,
                "family_name": FAMILY,
                "given_name": GIVEN,
                "birth_date": BORN,
            }
            status, request_id, _ = _ask(port, "POST", "/api/patients", token, woman)
            assert status == 201
            sent_ids.append(request_id)
            for _ in range(SEARCHES):
                search = f"/fhir/Patient?family={FAMILY}&given={GIVEN}&identifier={NUMBER}"
                status, request_id, _ = _ask(port, "GET", search, token)
                assert status == 200
                sent_ids.append(request_id)
            status, _, metrics = _ask(port, "GET", "/metrics")
            assert status == 200
        finally:
            server.send_signal(signal.SIGINT)
            try:
                output, _ = server.communicate(timeout=40)
            except subprocess.TimeoutExpired:
                server.kill()
                output, _ = server.communicate()

    # Every worker's requests, counted under the route's template.
    counted = _requests_by_route(metrics)
    assert counted[("GET", "/fhir/{resource_type}", "200")] == SEARCHES, counted
    assert counted[("POST", "/api/patients", "201")] == 1, counted
    for value in (*SECRETS, "family=", "identifier="):
        assert value not in metrics, f"{value!r} in /metrics"

    log = output.decode(errors="replace")
    lines = [line for line in log.splitlines() if line.strip()]
    assert lines
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [e for e in entries if e["logger"] == "uvicorn.access"]
    logged_ids = {e["request_id"] for e in access}
    assert set(sent_ids) <= logged_ids, "an access line without its answer's X-Request-ID"
    searches = [e for e in access if e.get("request_id") in sent_ids[1:]]
    assert {(e["method"], e["path"], e["status"]) for e in searches} == {
        ("GET", "/fhir/Patient", 200)
    }
    assert all({"time", "level", "message"} <= e.keys() for e in entries)
    # The build that runs is said once as the server starts (the suite runs the source).
    builds = [e["message"] for e in entries if e["message"].startswith("build: ")]
    assert builds == ["build: cervixwatch 0.1.0, source (not compiled)"], builds
    for value in (*SECRETS, "family=", "identifier="):
        assert value not in log, f"{value!r} in the server's log:\n{log}"
