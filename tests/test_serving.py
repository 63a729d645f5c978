"""`cervixwatch serve --workers N` on Linux (`serving.py`): each worker accepts on its own
`SO_REUSEPORT` socket, so connections opened together are spread over the workers; a worker
that dies is replaced and the server keeps answering; SIGINT stops everything cleanly.

Read off the real processes: which worker holds which connection comes from /proc."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cervixwatch.serving import spreads_connections
from tests.server_process import clean_environment, free_port, serve_command, workers_of

pytestmark = pytest.mark.skipif(
    not spreads_connections(), reason="SO_REUSEPORT spreads connections only on Linux"
)

STARTUP_SECONDS = 40
WORKERS = 2
CONNECTIONS = 16


def _established_on(pid: int, port: int) -> int:
    """How many established connections to `port` the process holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01" and fields[9] in inodes:
            count += 1
    return count


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/fhir/metadata")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _wait_for(condition: object, what: str, seconds: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def _server(tmp_path: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    command = serve_command(port, tmp_path / "serve.db", "--workers", str(WORKERS))
    server = subprocess.Popen(
        command,
        env=clean_environment(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield server
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_workers_share_the_connections_and_a_dead_one_is_replaced(tmp_path: Path) -> None:
    port = free_port()
    with _server(tmp_path, port) as server:
        _wait_for(lambda: len(workers_of(server.pid)) == WORKERS, "the workers to start")
        _wait_for(lambda: _answers(port), "the server to answer")

        # Connections opened together, kept open, each used once (so each is accepted).
        clients = [http.client.HTTPConnection("127.0.0.1", port) for _ in range(CONNECTIONS)]
        for client in clients:
            client.connect()
        for client in clients:
            client.request("GET", "/fhir/metadata")
            assert client.getresponse().read()
        held = {pid: _established_on(pid, port) for pid in workers_of(server.pid)}
        assert sum(held.values()) == CONNECTIONS
        # The kernel spreads them by a hash of their addresses: every worker has some (all 16
        # on one of 2 workers would happen once in 32,768 runs).
        assert all(count > 0 for count in held.values()), held
        for client in clients:
            client.close()

        # A worker killed is replaced, and the server answers throughout.
        victim = workers_of(server.pid)[0]
        time.sleep(6)  # past the early-death guard, which stops a server that cannot start
        os.kill(victim, signal.SIGKILL)
        _wait_for(
            lambda: len(workers_of(server.pid)) == WORKERS and victim not in workers_of(server.pid),
            "a replacement worker",
        )
        _wait_for(lambda: _answers(port), "the server to answer again")

        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=40)
        assert server.returncode == 0, output.decode(errors="replace")
        assert workers_of(server.pid) == []


def test_a_port_in_use_is_refused_at_once(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with _server(tmp_path, port) as server:
            output, _ = server.communicate(timeout=STARTUP_SECONDS)
    assert server.returncode != 0
    assert b"Address already in use" in output or b"address already in use" in output.lower()


def test_a_replacement_killed_at_once_is_restarted_and_the_healthy_worker_stays(
    tmp_path: Path,
) -> None:
    """Issue 12, F10: a worker killed, then its replacement a second later, stopped the whole
    server. Now the replacement is restarted after a back-off and the other worker is never
    touched."""
    port = free_port()
    with _server(tmp_path, port) as server:
        _wait_for(lambda: len(workers_of(server.pid)) == WORKERS, "the workers to start")
        _wait_for(lambda: _answers(port), "the server to answer")
        time.sleep(6)  # past the early-death guard: the server has been healthy
        first, healthy = workers_of(server.pid)[:2]
        os.kill(first, signal.SIGKILL)
        # The replacement is read off the same listing that shows it (two readings of /proc
        # may differ while the fork server is at work).
        seen: list[int] = []

        def replaced() -> bool:
            current = workers_of(server.pid)
            seen[:] = [p for p in current if p not in (first, healthy)]
            return len(current) == WORKERS and healthy in current and len(seen) == 1

        _wait_for(replaced, "a replacement worker")
        (replacement,) = seen
        time.sleep(1)
        os.kill(replacement, signal.SIGKILL)  # dies young
        _wait_for(
            lambda: (
                len(workers_of(server.pid)) == WORKERS and replacement not in workers_of(server.pid)
            ),
            "a second replacement, after its back-off",
        )
        assert server.poll() is None
        assert healthy in workers_of(server.pid)
        _wait_for(lambda: _answers(port), "the server to answer")
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=40)
        assert server.returncode == 0, output.decode(errors="replace")
        assert b"starting another in 0.5 s" in output
