"""`cervixwatch serve` as a process of its own for the fault suite: started in a new process
group (so the whole server can be killed at once), its workers found and aged from /proc, a
user's API token, one FHIR import over a fresh connection."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cervixwatch.app import accounts
from cervixwatch.serving import METRICS_DIRECTORY_VARIABLE
from cervixwatch.store.database import make_engine, session_factory
from cervixwatch.store.migrate import upgrade
from cervixwatch.store.models import Role
from tests.server_process import clean_environment, workers_of

STARTUP_SECONDS = 90
#: Seconds a client waits for an import's answer before counting it unanswered.
ANSWER_SECONDS = 20
TEAM = "Fault suite clinic"
_TICKS = os.sysconf("SC_CLK_TCK")


def clinician_token(url: str) -> str:
    """Migrates the database at `url` and makes a clinician of `TEAM` (every woman imported
    becomes her team's); the secret of her API token."""
    upgrade(url)
    engine = make_engine(url)
    try:
        sessions = session_factory(engine)
        accounts.add_user(sessions, "fault-suite", Role.CLINICIAN, teams=(TEAM,))
        return accounts.issue_token(sessions, "fault-suite", "tests/faults", days=1).secret
    finally:
        engine.dispose()


@dataclass
class Server:
    """A running `cervixwatch serve`: its supervisor's process (leading its own group)."""

    process: subprocess.Popen[bytes]
    port: int
    url: str
    workers: int
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def worker_pids(self) -> list[int]:
        return workers_of(self.process.pid)

    def kill_everything(self) -> None:
        """SIGKILL to the supervisor and its workers at once (its process group), and the
        metrics directory it can no longer remove (read from a worker's environment)."""
        directories = set()
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                for setting in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                    name, _, value = setting.partition(b"=")
                    if name == METRICS_DIRECTORY_VARIABLE.encode() and value:
                        directories.add(os.fsdecode(value))
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for directory in directories:
            shutil.rmtree(directory, ignore_errors=True)


def start(url: str, port: int, workers: int, log: Path) -> Server:
    command = [
        sys.executable,
        "-c",
        "from cervixwatch.cli import app; app()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--database-url",
        url,
        "--log-level",
        "warning",
    ]
    # One integration sends everything: the per-user rate limit is not under test.
    environment = {**clean_environment(), "CERVIXWATCH_API_RATE_LIMIT": "10000000/minute"}
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, env=environment, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(process, port, url, workers, log)


def wait_ready(server: Server, seconds: float = STARTUP_SECONDS) -> float:
    """Seconds until /readyz answers 200 with every worker running."""
    began = time.monotonic()
    while True:
        if not server.alive():
            raise AssertionError(f"the server exited with status {server.process.returncode}")
        if server.workers == 1 or len(server.worker_pids()) == server.workers:
            try:
                if get(server.port, "/readyz") == 200:
                    return time.monotonic() - began
            except OSError:
                pass
        if time.monotonic() - began > seconds:
            raise AssertionError("the server did not become ready")
        time.sleep(0.1)


def stop(server: Server) -> None:
    """SIGINT (a clean stop); killed if it does not stop in time."""
    if not server.alive():
        return
    server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        server.kill_everything()


@contextmanager
def serving(url: str, port: int, workers: int, log: Path) -> Iterator[Server]:
    server = start(url, port, workers, log)
    try:
        wait_ready(server)
        yield server
    finally:
        if server.alive():
            stop(server)


def get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    request_id: str


def post_bundle(port: int, token: str, body: bytes) -> Answer:
    """POST /fhir on a connection of its own (so the kernel spreads them over the workers);
    raises OSError (or http.client's errors) when no answer comes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=ANSWER_SECONDS)
    try:
        connection.request(
            "POST",
            "/fhir",
            body=body,
            headers={
                "Content-Type": "application/fhir+json",
                "Authorization": f"Bearer {token}",
                "Connection": "close",
            },
        )
        answer = connection.getresponse()
        answer.read()
        return Answer(answer.status, answer.getheader("X-Request-ID") or "")
    finally:
        connection.close()


def age(pid: int) -> float:
    """Seconds since the process started (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    started = int(stat.rsplit(")", 1)[1].split()[19]) / _TICKS
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - started
