"""Benchmark: bundle import throughput and worklist latency of the web app on PostgreSQL.

    uv run python benchmarks/api.py [--patients 50000] [--active 5000] [--workers 2]

Against a PostgreSQL server (`CERVIXWATCH_BENCH_DATABASE_URL`, default
postgresql+psycopg://postgres@127.0.0.1:5432/test) it creates a throwaway database
`cw_bench_<random>`, and drops it at the end (unless --keep):

1. Generates `--patients` SYNTHETIC women from the demo cohort (`cervixwatch.cohort`), the
   first `--active` with a pregnancy active today, the rest past patients whose pregnancy has
   ended; each becomes one FHIR Bundle (JSON bytes). Not timed.
2. Starts `cervixwatch serve` (Uvicorn, `--workers` processes) on a free loopback port and
   imports every Bundle with `POST /fhir`, from `--concurrency` client threads, each with its
   own keep-alive connection. Target: at least 200 bundles/s. If the server has no `POST /fhir`
   yet, the same Bundles are imported through the store instead (`read_bundle` +
   `write_records`, from `--concurrency` processes, no HTTP), and the report says so.
3. Ends the past patients' pregnancies (one SQL statement: setting up, not measured), leaving
   `--active` active pregnancies on the worklist, and runs VACUUM (ANALYZE) (as autovacuum
   would after a bulk load).
4. Times `GET /api/worklist` (the first page, as the clinic opens it) `--requests` times, from
   one client and from `--clients` concurrent clients, after a warm-up. Target: p99 under
   200 ms.

Everything runs on this machine: the load generator competes with the server for the CPUs,
so the figures are a floor. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import json
import multiprocessing
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cervixwatch.access.principal import Role
from cervixwatch.app import accounts
from cervixwatch.app.reassessing import write_records
from cervixwatch.cohort import DEFAULT_SEED, bundle_bytes, cohort_patient
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.knowledge import bundled_profiles
from cervixwatch.store import (
    PatientFields,
    RecordSource,
    make_engine,
    session_factory,
    upgrade,
)

IMPORT_TARGET = 200.0  # bundles per second
WORKLIST_P99_TARGET_MS = 200.0
BENCH_DATABASE_VARIABLE = "CERVIXWATCH_BENCH_DATABASE_URL"
DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STARTUP_SECONDS = 60
#: The care team of the benchmark's clinician (`benchmark_clinician`): every woman imported
#: with her token is the team's.
BENCHMARK_TEAM = "Benchmark clinic"


# --- the throwaway database -------------------------------------------------------------------


@contextmanager
def throwaway_database(server_url: str, keep: bool) -> Iterator[str]:
    """A new empty database `cw_bench_<random>` on the server, dropped afterwards."""
    name = f"cw_bench_{secrets.token_hex(5)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            if keep:
                print(f"kept database {name}")
            else:
                with admin.connect() as connection:
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


# --- the synthetic patients -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prepared:
    raw: bytes
    hospital_number: str
    ended_on: dt.date | None


_JOB: dict[str, Any] = {}


def _prepare(index: int) -> Prepared:
    reference: dt.date = _JOB["reference"]
    patient = cohort_patient(
        index,
        _JOB["seed"],
        reference,
        active=index < _JOB["active"],
        profiles=list(bundled_profiles().values()),
    )
    return Prepared(
        bundle_bytes(patient, _JOB["bundle_type"]),
        patient.hospital_number,
        patient.outcome.delivered_on if patient.outcome else None,
    )


def _init_job(job: dict[str, Any]) -> None:
    _JOB.update(job)


def prepare(
    args: argparse.Namespace, reference: dt.date, indices: Sequence[int] | None = None
) -> list[Prepared]:
    """The cohort's women numbered `indices` (default: the first `args.patients`) as Bundles,
    the first `args.active` of the cohort with an active pregnancy."""
    job = {
        "seed": args.seed,
        "active": args.active,
        "bundle_type": args.bundle_type,
        "reference": reference,
    }
    processes = os.cpu_count() or 1
    with multiprocessing.Pool(processes, initializer=_init_job, initargs=(job,)) as pool:
        chosen = range(args.patients) if indices is None else indices
        return pool.map(_prepare, chosen, chunksize=200)


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_server(
    url: str, port: int, workers: int, settings: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`cervixwatch serve` on 127.0.0.1:`port`, stopped (SIGINT) afterwards; `settings` are
    further CERVIXWATCH_ environment variables for it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERVIXWATCH_")}
    # One integration sends everything: the per-user API rate limit (1,200/minute by
    # default) would otherwise be what is measured.
    env["CERVIXWATCH_API_RATE_LIMIT"] = "10000000/minute"
    env.update(settings or {})
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
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with status {server.returncode}")
            try:
                if request(port, "GET", "/openapi.json")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        yield server
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=_headers(body))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


#: The benchmark's clinician: every request carries her bearer token (set by `main`).
AUTH: dict[str, str] = {}


def _headers(body: bytes | None) -> dict[str, str]:
    if body is None:
        return {"Accept": "application/json", **AUTH}
    return {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json", **AUTH}


def benchmark_clinician(url: str) -> dict[str, str]:
    """A clinician of one care team, who imports every woman (so they are all her team's) and
    reads the worklist: the Authorization header of her API token."""
    engine = make_engine(url)
    try:
        sessions = session_factory(engine)
        accounts.add_user(sessions, "benchmark", Role.CLINICIAN, teams=(BENCHMARK_TEAM,))
        token = accounts.issue_token(sessions, "benchmark", "benchmarks/api.py", days=1)
    finally:
        engine.dispose()
    return {"Authorization": f"Bearer {token.secret}"}


@dataclass(frozen=True, slots=True)
class Run:
    """One load-generator run: wall time, per-request latencies (s) and status counts."""

    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    first_error: str | None

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000


def load(
    port: int, method: str, path: str, bodies: Sequence[bytes | None], concurrency: int
) -> Run:
    """Send one request per body from `concurrency` threads, each with a keep-alive connection."""
    return send(port, [(method, path, body) for body in bodies], concurrency)


def send(
    port: int,
    requests: Sequence[tuple[str, str, bytes | None]],
    concurrency: int,
    extra_headers: dict[str, str] | None = None,
) -> Run:
    """Send each (method, path, body) once, from `concurrency` threads, each with a keep-alive
    connection; an answer of 300 or more is counted and the first one kept."""
    counter = itertools.count()
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    statuses: dict[int, int] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def client(slot: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine = latencies[slot]
        try:
            while (i := next(counter)) < len(requests):
                method, path, body = requests[i]
                headers = {**_headers(body), **(extra_headers or {})}
                started = time.perf_counter()
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                mine.append(time.perf_counter() - started)
                with lock:
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                    if response.status >= 300 and not errors:
                        errors.append(f"{path} {response.status}: {payload[:300]!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(slot,)) for slot in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return Run(
        seconds, [x for xs in latencies for x in xs], statuses, errors[0] if errors else None
    )


# --- CPU accounting (Linux /proc) ---------------------------------------------------------------
#
# Wall-clock rates on a shared 2-vCPU machine vary by 10-25% from run to run (checkpoints,
# autovacuum, neighbours); the CPU an import costs varies far less, so comparisons between
# trees read it too (docs/performance.md).


def _process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # ended in between
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with suppress(OSError):  # ended in between
                todo.extend(int(child) for child in task.read_text().split())
    return found


def _database_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
    return pids


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    """CPU seconds used so far by the server's processes, by PostgreSQL's (a local server),
    and by the whole machine (this load generator included)."""

    server: dict[int, float]
    database: dict[int, float]
    machine: float

    @classmethod
    def take(cls, server_pid: int) -> CpuSnapshot:
        stat = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in stat[:7])
        busy = (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
        return cls(
            {pid: _process_cpu(pid) for pid in _descendants(server_pid)},
            {pid: _process_cpu(pid) for pid in _database_pids()},
            busy,
        )

    def since(self, before: CpuSnapshot) -> tuple[float, float, float]:
        """(server, database, machine) CPU seconds used between `before` and this one; a
        process that ended in between is not counted."""

        def used(now: dict[int, float], then: dict[int, float]) -> float:
            return sum(seconds - then.get(pid, 0.0) for pid, seconds in now.items())

        return (
            used(self.server, before.server),
            used(self.database, before.database),
            self.machine - before.machine,
        )


# --- importing --------------------------------------------------------------------------------


def has_fhir_import(port: int) -> bool:
    status, body = request(port, "GET", "/openapi.json")
    paths = json.loads(body).get("paths", {}) if status == 200 else {}
    return any(p in paths and "post" in paths[p] for p in ("/fhir", "/fhir/"))


def _store_import(job: tuple[str, dt.date, list[bytes]]) -> int:
    """Import bundles through the store, in one worker process (the fallback path)."""
    url, as_of, raws = job
    engine = make_engine(url)
    factory = session_factory(engine)
    profiles = bundled_profiles()
    try:
        for raw in raws:
            bundle = json.loads(raw)
            patient = bundle["entry"][0]["resource"]
            name = patient["name"][0]
            records = read_bundle(raw, as_of)
            write_records(
                factory,
                PatientFields(patient["identifier"][0]["value"], name["family"], name["given"][0]),
                records,
                as_of=as_of,
                profiles=profiles,
                source=RecordSource.FHIR,
            )
    finally:
        engine.dispose()
    return len(raws)


def store_import(url: str, reference: dt.date, raws: list[bytes], processes: int) -> Run:
    """The fallback: the same bundles through `read_bundle` + `write_records`, no HTTP."""
    chunks = [raws[i::processes] for i in range(processes)]
    with multiprocessing.Pool(processes) as pool:
        started = time.perf_counter()
        done = sum(pool.map(_store_import, [(url, reference, chunk) for chunk in chunks]))
        seconds = time.perf_counter() - started
    per = seconds / max(done, 1)
    return Run(seconds, [per] * done, {0: done}, None)


def end_past_pregnancies(url: str, prepared: list[Prepared]) -> int:
    """Mark the past patients' pregnancies ended on their day of birth (benchmark set-up: no
    import path ends a pregnancy), then gather planner statistics; returns how many stay
    active."""
    rows = [
        {"number": p.hospital_number, "ended_on": p.ended_on}
        for p in prepared
        if p.ended_on is not None
    ]
    if not rows:
        return 0
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE pregnancies SET status = 'ended', ended_on = :ended_on "
                    "FROM patients WHERE pregnancies.patient_id = patients.id "
                    "AND patients.hospital_number = :number AND pregnancies.status = 'active'"
                ),
                rows,
            )
            active = connection.execute(
                text("SELECT count(*) FROM pregnancies WHERE status = 'active'")
            ).scalar_one()
    finally:
        engine.dispose()
    vacuum_analyze(url)
    return int(active)


def vacuum_analyze(url: str) -> None:
    """VACUUM and ANALYZE after the bulk load and the bulk update, as autovacuum would within
    its minute's nap on a production server. Without it the measured reads are of a table
    no production server would keep: the update left 20,000-45,000 dead row versions and an
    empty visibility map, so every index-only count read the heap as well (the worklist's
    checks cost 76 ms a request at 30,000 active, 9 ms once vacuumed; docs/performance.md).
    Run here whatever the server's own setting, because a test machine may have autovacuum
    off (this one does)."""
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE)"))
    finally:
        engine.dispose()


# --- reporting --------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as info:
            model = next((ln.split(":", 1)[1].strip() for ln in info if "model name" in ln), "")
    except OSError:
        pass
    return (
        f"{model or platform.processor()} x{os.cpu_count()}; {platform.system()} "
        f"{platform.release()}; CPython {platform.python_version()}; uvicorn "
        f"{version('uvicorn')}, fastapi {version('fastapi')}, SQLAlchemy {version('sqlalchemy')}, "
        f"psycopg {version('psycopg')}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=50_000)
    parser.add_argument("--active", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--concurrency", type=int, default=8, help="import clients")
    parser.add_argument("--requests", type=int, default=2_000, help="worklist requests")
    parser.add_argument("--clients", type=int, default=4, help="concurrent worklist clients")
    parser.add_argument(
        "--bundle-type", default="transaction", choices=["transaction", "batch", "collection"]
    )
    parser.add_argument("--store", action="store_true", help="import through the store only")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args(argv)
    args.active = min(args.active, args.patients)
    server_url = os.environ.get(BENCH_DATABASE_VARIABLE) or DEFAULT_SERVER_URL
    reference = dt.date.today()  # noqa: DTZ011 - the server's clinic day is today

    print("CervixWatch API benchmark (synthetic patients)")
    print(f"machine: {machine()}")
    print(
        f"patients {args.patients:,} ({args.active:,} active on {reference}), seed {args.seed}, "
        f"server workers {args.workers}, import clients {args.concurrency}"
    )
    started = time.perf_counter()
    prepared = prepare(args, reference)
    raws = [p.raw for p in prepared]
    size = statistics.fmean(len(r) for r in raws)
    print(
        f"generated {len(raws):,} bundles ({size / 1024:.1f} KiB on average) in "
        f"{time.perf_counter() - started:.1f} s (not timed)"
    )

    with throwaway_database(server_url, args.keep) as url:
        upgrade(url)
        AUTH.update(benchmark_clinician(url))
        port = free_port()
        with running_server(url, port, args.workers) as server:
            http_path = not args.store and has_fhir_import(port)
            cpu_before = CpuSnapshot.take(server.pid)
            if http_path:
                imported = load(port, "POST", "/fhir", raws, args.concurrency)
                how = f"POST /fhir over HTTP, {args.concurrency} clients"
                ok_statuses = sum(n for s, n in imported.statuses.items() if s < 300)
                if ok_statuses != len(raws):
                    print(f"import: {imported.statuses}; first error {imported.first_error}")
                    return 1
            else:
                if not args.store:
                    print("the server has no POST /fhir yet: importing through the store")
                imported = store_import(url, reference, raws, args.concurrency)
                how = f"read_bundle + write_records, {args.concurrency} processes, no HTTP"
            print(
                f"import: {len(raws):,} bundles in {imported.seconds:.1f} s = "
                f"{imported.rate:,.0f} bundles/s ({how})"
            )
            server_cpu, database_cpu, machine_cpu = CpuSnapshot.take(server.pid).since(cpu_before)
            per_bundle = 1000 / len(raws)
            print(
                f"  CPU per bundle: server {server_cpu * per_bundle:.2f} ms, database "
                f"{database_cpu * per_bundle:.2f} ms, whole machine {machine_cpu * per_bundle:.2f} "
                "ms (load generator included)"
            )
            if http_path:
                print(
                    f"  per request: median {imported.median_ms:.1f} ms, "
                    f"p99 {imported.ms(0.99):.1f} ms"
                )

            active = end_past_pregnancies(url, prepared)
            print(f"active pregnancies on the worklist: {active:,}")
            status, body = request(port, "GET", "/api/worklist")
            if status != 200:
                print(f"GET /api/worklist: {status} {body[:300]!r}")
                return 1
            total = json.loads(body).get("total")
            print(f"GET /api/worklist answers 200; total {total}")

            load(port, "GET", "/api/worklist", [None] * 100, args.clients)  # warm-up
            runs = {
                1: load(port, "GET", "/api/worklist", [None] * args.requests, 1),
                args.clients: load(
                    port, "GET", "/api/worklist", [None] * args.requests, args.clients
                ),
            }

    print()
    print("| figure | measured | target | met? |")
    print("| --- | ---: | --- | --- |")
    import_ok = imported.rate >= IMPORT_TARGET
    print(
        f"| bundle import ({'HTTP' if http_path else 'store, no HTTP'}) | "
        f"{imported.rate:,.0f} bundles/s | >= {IMPORT_TARGET:.0f} /s | {verdict(import_ok)} |"
    )
    met = import_ok
    for clients, run in runs.items():
        p99 = run.ms(0.99)
        ok = p99 < WORKLIST_P99_TARGET_MS
        met = met and ok
        print(
            f"| worklist, {clients} client{'s' if clients > 1 else ''} | median "
            f"{run.median_ms:.1f} ms, p99 {p99:.1f} ms ({run.rate:,.0f} req/s) | p99 < "
            f"{WORKLIST_P99_TARGET_MS:.0f} ms | {verdict(ok)} |"
        )
        if run.first_error:
            print(f"  errors: {run.statuses}; first {run.first_error}")
    return 2 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
