"""State shared by every worker of a real `cervixwatch serve --workers 2` (issue 12, part 5),
on SQLite and on PostgreSQL.

- A revoked token stops everywhere at once: it is used on connections held by both workers
  (which worker holds which is read off /proc), so both remember it (the token cache, here
  for 300 s); once revoked, through the API or by another process, every following request
  on every connection is refused. A token revoked by hand in SQL, around the store, is still
  accepted: the workers really do remember tokens, and the access generation is what stops
  them.
- Without Redis, wrong passwords sent to both workers back off together (counted in the
  database).
- With `CERVIXWATCH_RATE_LIMIT_STORAGE=redis://...` the API rate limit counts the requests
  of both workers together; with `memory://` each worker warns that it counts its own.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from cervixwatch.app import accounts
from cervixwatch.serving import spreads_connections
from cervixwatch.store.database import make_engine, session_factory
from cervixwatch.store.migrate import upgrade
from cervixwatch.store.models import ApiTokenRow, Role
from tests.conftest import BACKENDS, empty_database
from tests.server_process import clean_environment, free_port, workers_of
from tests.web.accounts import PASSWORD

pytestmark = pytest.mark.skipif(
    not spreads_connections(), reason="several workers with SO_REUSEPORT on Linux only"
)

STARTUP_SECONDS = 60
WORKERS = 2
#: Connections held open at once; the kernel spreads them over the workers (all on one of two
#: would happen once in 2**(CONNECTIONS - 1) runs; then more are opened).
CONNECTIONS = 8
REDIS = ("127.0.0.1", 6379)
#: A Redis database of the tests' own (keys are per user id anyway, so runs never share one).
REDIS_DATABASE = 11


def _client_ports_held_by(pid: int, port: int) -> set[int]:
    """The client-side ports of the established connections to `port` the process holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    held = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01" and fields[9] in inodes:
            held.add(int(fields[2].split(":")[1], 16))
    return held


def _get(connection: http.client.HTTPConnection, path: str, token: str) -> int:
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    answer = connection.getresponse()
    answer.read()
    return answer.status


@contextmanager
def _server(
    url: str, directory: Path, **settings: str
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`cervixwatch serve --workers 2` on `url`, ready; its output read after it stops."""
    port = free_port()
    command = [
        *(sys.executable, "-c", "from cervixwatch.cli import app; app()", "serve"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)),
        *("--database-url", url, "--log-level", "warning"),
    ]
    environment = {
        **clean_environment(),
        "CERVIXWATCH_TOKEN_CACHE_SECONDS": "300",
        **{f"CERVIXWATCH_{k.upper()}": v for k, v in settings.items()},
    }
    server = subprocess.Popen(
        command, env=environment, cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while len(workers_of(server.pid)) < WORKERS or not _ready(port):
            assert server.poll() is None, "the server stopped"
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.2)
        yield port, server
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()


def _ready(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/readyz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _connections_on_every_worker(
    server: subprocess.Popen[bytes], port: int, token: str
) -> list[http.client.HTTPConnection]:
    """Keep-alive connections, each having made one request with `token` (so its worker
    remembers it), held by every worker between them."""
    connections: list[http.client.HTTPConnection] = []
    for _ in range(4):
        for _ in range(CONNECTIONS):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            assert _get(connection, "/api/tokens", token) == 200
            connections.append(connection)
        held = {pid: _client_ports_held_by(pid, port) for pid in workers_of(server.pid)}
        if len(held) == WORKERS and all(held.values()):
            return connections
    raise AssertionError(f"the connections did not reach every worker: {held}")


def _issue_tokens(url: str, count: int, team: str) -> tuple[list[str], list[str]]:
    """`count` tokens of a new clinician: (secrets, ids)."""
    engine = make_engine(url)
    try:
        sessions = session_factory(engine)
        username = f"shared-{team.lower().replace(' ', '-')}"
        accounts.add_user(sessions, username, Role.CLINICIAN, teams=(team,))
        issued = [accounts.issue_token(sessions, username, f"t{i}", days=1) for i in range(count)]
        return [t.secret for t in issued], [t.id for t in issued]
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_revoked_token_is_refused_by_every_worker_at_once(backend: str, tmp_path: Path) -> None:
    with empty_database(backend, tmp_path) as url:
        upgrade(url)
        (by_api, by_process, by_hand), ids = _issue_tokens(url, 3, "Shared team")
        with _server(url, tmp_path) as (port, server):
            held = {
                token: _connections_on_every_worker(server, port, token)
                for token in (by_api, by_process, by_hand)
            }
            try:
                # Revoked in SQL around the store: the access generation does not move, and
                # both workers go on answering from what they remember (for 300 s).
                engine = make_engine(url)
                try:
                    with session_factory(engine).begin() as session:
                        session.execute(
                            update(ApiTokenRow)
                            .where(ApiTokenRow.id == ids[2])
                            .values(revoked_at=dt.datetime.now(dt.UTC))
                        )
                    assert {_get(c, "/api/tokens", by_hand) for c in held[by_hand]} == {200}

                    # Revoked through the API, on a connection of its own (one worker): every
                    # connection of both workers refuses it on its very next request.
                    revoking = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    revoking.request(
                        "DELETE",
                        f"/api/tokens/{ids[0]}",
                        headers={"Authorization": f"Bearer {by_api}"},
                    )
                    assert revoking.getresponse().status == 204
                    revoking.close()
                    assert {_get(c, "/api/tokens", by_api) for c in held[by_api]} == {401}

                    # Revoked by another process (as `cervixwatch users revoke-token` does):
                    # the same.
                    assert {_get(c, "/api/tokens", by_process) for c in held[by_process]} == {200}
                    accounts.revoke_token(session_factory(engine), ids[1])
                    assert {_get(c, "/api/tokens", by_process) for c in held[by_process]} == {401}
                    # And every request after that, on any connection.
                    for connections in held.values():
                        assert {_get(c, "/api/tokens", by_api) for c in connections} == {401}
                finally:
                    engine.dispose()
            finally:
                for connections in held.values():
                    for connection in connections:
                        connection.close()


def _post_json(connection: http.client.HTTPConnection, path: str, token: str, body: Any) -> int:
    connection.request(
        "POST",
        path,
        body=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    answer = connection.getresponse()
    answer.read()
    return answer.status


@pytest.mark.parametrize("backend", BACKENDS)
def test_without_redis_wrong_passwords_back_off_in_every_worker(
    backend: str, tmp_path: Path
) -> None:
    """Making a token needs the password again, and wrong ones back off as at sign-in: with
    `memory://` the wrong passwords are counted in the database, so those sent to both
    workers reach the threshold together and every connection is refused after it."""
    threshold = 4
    with empty_database(backend, tmp_path) as url:
        upgrade(url)
        engine = make_engine(url)
        try:
            sessions = session_factory(engine)
            accounts.add_user(
                sessions, "backoff-nurse", Role.CLINICIAN, password=PASSWORD, teams=("T",)
            )
            token = accounts.issue_token(sessions, "backoff-nurse", "tests", days=1).secret
        finally:
            engine.dispose()
        with _server(url, tmp_path, lockout_threshold=str(threshold)) as (port, server):
            connections = _connections_on_every_worker(server, port, token)
            try:
                wrong = {"name": "again", "password": "not the password at all"}
                answers = [
                    _post_json(connections[n % len(connections)], "/api/tokens", token, wrong)
                    for n in range(threshold)
                ]
                assert answers == [403] * threshold
                assert {_post_json(c, "/api/tokens", token, wrong) for c in connections} == {429}
            finally:
                for connection in connections:
                    connection.close()


def _redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_with_redis_the_rate_limit_counts_the_requests_of_every_worker(tmp_path: Path) -> None:
    if not _redis_answers():
        pytest.skip(f"no Redis server answers on {REDIS[0]}:{REDIS[1]} (make redis-deps)")
    limit = 40  # more than the connections opened to reach both workers (at most 32)
    with empty_database("sqlite", tmp_path) as url:
        upgrade(url)
        (token,), _ = _issue_tokens(url, 1, "Limited team")
        storage = f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS_DATABASE}"
        with _server(
            url, tmp_path, rate_limit_storage=storage, api_rate_limit=f"{limit}/minute"
        ) as (port, server):
            connections = _connections_on_every_worker(server, port, token)
            try:
                used = len(connections)  # one request each so far
                answers = []
                while used < limit:
                    answers.append(_get(connections[used % len(connections)], "/api/tokens", token))
                    used += 1
                assert set(answers) == {200}
                # Both workers together have had `limit`, each about half of it: every
                # connection is refused now (counted per worker, each would allow `limit`).
                assert {_get(c, "/api/tokens", token) for c in connections} == {429}
            finally:
                for connection in connections:
                    connection.close()


def test_with_memory_counters_each_worker_warns_that_it_counts_its_own(tmp_path: Path) -> None:
    with empty_database("sqlite", tmp_path) as url, _server(url, tmp_path) as (_, server):
        server.terminate()
        output, _ = server.communicate(timeout=30)
    text = output.decode()
    assert text.count("counted per worker process (memory://, 2 workers)") == WORKERS, text
