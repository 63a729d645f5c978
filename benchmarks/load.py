"""Load run: clinicians, patients and an EHR at once against `cervixwatch serve` on PostgreSQL,
for a bounded time; error rate, latency per route and the workers' memory (issue 12, part 3).

    uv run python benchmarks/load.py [--patients 50000] [--active 5000] [--minutes 10]
        [--workers 2] [--clinicians 4] [--patient-users 20] [--ehr-users 1] [--strict]

Against a PostgreSQL server (`CERVIXWATCH_BENCH_DATABASE_URL`, as `benchmarks/api.py`) it
creates a throwaway database `cw_bench_<random>`, dropped at the end (unless --keep):

1. Loads `--patients` SYNTHETIC women of the demo cohort as `benchmarks/api.py` does (its
   functions): their Bundles imported with `POST /fhir` by a clinician of one care team, then
   the past patients' pregnancies ended, leaving `--active` active, and VACUUM (ANALYZE).
   Not measured.
2. Makes the accounts: `--clinicians` clinicians of that care team and `--patient-users`
   patients, each linked to a woman with an active pregnancy (passwords, signing in through
   the sign-in page), and an EHR integration of the team with a bearer token; and the Bundles
   of the new women the EHR will send (`--patients` onwards in the cohort, all pregnant).
3. Runs locust headless (`benchmarks/load_users.py`, a subprocess) for `--minutes`, the users
   started `--spawn-rate` a second, each signing in first: clinicians read `/api/worklist`
   pages, `/worklist`, `/pregnancies/{id}` and its assessment; patients read `/my` and report
   symptoms through `/my/symptoms`; the EHR posts transaction Bundles to `/fhir`. Meanwhile
   each server worker's resident memory (VmRSS) is read every `--sample-seconds`.
4. Prints, per route, requests, failures and the 50th/95th/99th percentiles (exact times as
   locust's request event gives them, from sending to the whole answer), the failures by
   status and message, and each worker's memory before the load, after `--warmup` seconds of
   it, at its peak and at the end.

With --strict the exit status is 2 when any request failed or a worker's memory grew by 10% or
more between the warm-up sample and the end (before the warm-up the first requests fill the
caches: templates, compiled rule conditions, SQLAlchemy's statement cache; the growth from
before the load is printed too). Everything runs on this machine, load generator included.
See docs/reliability.md ("Load").
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from api import (
    AUTH,
    BENCH_DATABASE_VARIABLE,
    BENCHMARK_TEAM,
    DEFAULT_SERVER_URL,
    benchmark_clinician,
    end_past_pregnancies,
    free_port,
    load,
    machine,
    prepare,
    running_server,
    throwaway_database,
)
from cervixwatch.access.principal import Role
from cervixwatch.app import accounts
from cervixwatch.cohort import DEFAULT_SEED
from cervixwatch.serving import worker_pids
from cervixwatch.store import make_engine, session_factory, upgrade

USERS_FILE = Path(__file__).with_name("load_users.py")
MEMORY_GROWTH_LIMIT = 0.10
#: What the run's server is told beyond `api.running_server`'s settings: every user signs in
#: from 127.0.0.1, and the sign-in limit per address (10/minute) would refuse all but ten.
SERVER_SETTINGS = {"CERVIXWATCH_SIGN_IN_RATE_LIMIT": "100000/minute"}
#: Bundles the EHR may need: at most one every 0.5 s per EHR user (its shortest wait).
EHR_BUNDLES_PER_SECOND = 2


# --- the accounts -------------------------------------------------------------------------------


def make_accounts(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """The clinicians and patients (username, password) and the EHR's token."""
    engine = make_engine(url)
    try:
        sessions = session_factory(engine)
        with engine.connect() as connection:
            women = (
                connection.execute(
                    text(
                        "SELECT patients.id FROM patients JOIN pregnancies "
                        "ON pregnancies.patient_id = patients.id "
                        "WHERE pregnancies.status = 'active' ORDER BY patients.hospital_number "
                        "LIMIT :n"
                    ),
                    {"n": args.patient_users},
                )
                .scalars()
                .all()
            )
        if len(women) < args.patient_users:
            raise SystemExit(f"only {len(women)} women with an active pregnancy for the patients")
        clinicians = [
            _account(sessions, f"clinician-{i}", Role.CLINICIAN, teams=(BENCHMARK_TEAM,))
            for i in range(args.clinicians)
        ]
        patients = [
            _account(sessions, f"patient-{i}", Role.PATIENT, patient_id=str(woman))
            for i, woman in enumerate(women)
        ]
        accounts.add_user(sessions, "ehr", Role.CLINICIAN, teams=(BENCHMARK_TEAM,))
        token = accounts.issue_token(sessions, "ehr", "benchmarks/load.py", days=1)
    finally:
        engine.dispose()
    return {"clinicians": clinicians, "patients": patients, "ehr_token": token.secret}


def _account(
    sessions: sessionmaker[Session],
    username: str,
    role: Role,
    *,
    teams: tuple[str, ...] = (),
    patient_id: str | None = None,
) -> dict[str, str]:
    password = secrets.token_urlsafe(18)
    accounts.add_user(
        sessions, username, role, password=password, teams=teams, patient_id=patient_id
    )
    return {"username": username, "password": password}


def ehr_bundles(args: argparse.Namespace, reference: dt.date, path: Path) -> int:
    """The Bundles of the new women the EHR sends, one per line; every one pregnant today."""
    count = max(1, int(args.ehr_users * args.minutes * 60 * EHR_BUNDLES_PER_SECOND) + 10)
    first = args.patients
    new = argparse.Namespace(**{**vars(args), "active": first + count})
    prepared = prepare(new, reference, range(first, first + count))
    path.write_bytes(b"\n".join(p.raw for p in prepared))
    return count


# --- the workers' memory ------------------------------------------------------------------------


def rss_mib(pid: int) -> float | None:
    """Resident memory of `pid` (VmRSS), in MiB; None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class MemoryLog:
    """Each worker's RSS, sampled: (seconds since the load began, MiB) per pid."""

    server: int
    samples: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def sample(self) -> None:
        moment = time.monotonic() - self.started
        for pid in worker_pids(self.server):
            mib = rss_mib(pid)
            if mib is not None:
                self.samples.setdefault(pid, []).append((moment, mib))


def sample_until(log: MemoryLog, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        log.sample()


# --- the run ------------------------------------------------------------------------------------


def run_locust(port: int, plan_path: Path, args: argparse.Namespace, log: MemoryLog) -> int:
    kinds = {"Clinician": args.clinicians, "Patient": args.patient_users, "Ehr": args.ehr_users}
    users = sum(kinds.values())
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(USERS_FILE),
        "--headless",
        "--host",
        f"http://127.0.0.1:{port}",
        "--users",
        str(users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{int(args.minutes * 60)}s",
        "--stop-timeout",
        "30",
        "--only-summary",
        "--loglevel",
        "WARNING",
        *(kind for kind, n in kinds.items() if n > 0),
    ]
    env = {**os.environ, "CERVIXWATCH_LOAD_PLAN": str(plan_path)}
    stop = threading.Event()
    sampler = threading.Thread(target=sample_until, args=(log, stop, args.sample_seconds))
    log.started = time.monotonic()
    log.sample()
    sampler.start()
    try:
        with (plan_path.parent / "locust.log").open("wb") as output:
            locust = subprocess.run(
                command, env=env, stdout=output, stderr=subprocess.STDOUT, check=False
            )
    finally:
        stop.set()
        sampler.join()
    log.sample()
    return int(locust.returncode)


# --- the report ---------------------------------------------------------------------------------


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def route_table(results: dict[str, Any], seconds: float) -> tuple[list[str], int, int]:
    """The per-route table's lines, and (requests, failures) over all routes."""
    lines = [
        "| route | requests | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    total = failed = 0
    everything: list[float] = []
    rest: list[float] = []  # all but signing in: once per user, at its start (Argon2)
    rest_failed = 0
    for route in sorted(results["times_ms"]):
        times = sorted(results["times_ms"][route])
        failures = sum(results["failures"].get(route, {}).values())
        total += len(times)
        failed += failures
        everything += times
        if not route.endswith(" /sign-in"):
            rest += times
            rest_failed += failures
        lines.append(_row(route, times, failures, seconds))
    lines.append(_row("**all**", sorted(everything), failed, seconds))
    lines.append(_row("all but signing in", sorted(rest), rest_failed, seconds))
    return lines, total, failed


def _row(route: str, times: list[float], failures: int, seconds: float) -> str:
    if not times:
        return f"| {route} | 0 | {failures} | | | | | |"
    return (
        f"| {route} | {len(times):,} | {failures:,} | {len(times) / seconds:.1f} | "
        f"{statistics.median(times):.0f} | {percentile(times, 0.95):.0f} | "
        f"{percentile(times, 0.99):.0f} | {times[-1]:.0f} |"
    )


def memory_table(log: MemoryLog, warmup: float) -> tuple[list[str], float, float]:
    """Each worker's RSS before the load, after the warm-up, at its peak and at the end; the
    largest growth from the warm-up sample to the end, and from before the load to the end."""
    lines = [
        "| worker pid | before load MiB | after warm-up MiB | peak MiB | end MiB | "
        "growth warm-up -> end | growth before -> end |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    worst_warm = worst_cold = 0.0
    for pid, samples in sorted(log.samples.items()):
        before = samples[0][1]
        warm = next((mib for moment, mib in samples if moment >= warmup), samples[-1][1])
        end = samples[-1][1]
        peak = max(mib for _, mib in samples)
        growth_warm, growth_cold = end / warm - 1, end / before - 1
        worst_warm, worst_cold = max(worst_warm, growth_warm), max(worst_cold, growth_cold)
        lines.append(
            f"| {pid} | {before:.0f} | {warm:.0f} | {peak:.0f} | {end:.0f} | "
            f"{growth_warm:+.1%} | {growth_cold:+.1%} |"
        )
    return lines, worst_warm, worst_cold


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=50_000, help="women loaded first")
    parser.add_argument("--active", type=int, default=5_000, help="of them, pregnant today")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load lasts")
    parser.add_argument("--workers", type=int, default=2, help="server workers")
    parser.add_argument("--clinicians", type=int, default=4, help="clinician users")
    parser.add_argument("--patient-users", type=int, default=20, help="patient users")
    parser.add_argument("--ehr-users", type=int, default=1, help="EHR integration users")
    parser.add_argument(
        "--spawn-rate",
        type=float,
        default=2.0,
        help="users started per second (each signs in first: Argon2 on the server)",
    )
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before memory")
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--concurrency", type=int, default=8, help="clients loading the women")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--strict", action="store_true", help="exit 2 on an error or growth")
    args = parser.parse_args(argv)
    args.active = min(args.active, args.patients)
    args.bundle_type = "transaction"
    server_url = os.environ.get(BENCH_DATABASE_VARIABLE) or DEFAULT_SERVER_URL
    reference = dt.date.today()  # noqa: DTZ011 - the server's clinic day is today

    print("CervixWatch load run (synthetic patients)")
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the start")
    print(
        f"women {args.patients:,} ({args.active:,} active on {reference}), seed {args.seed}, "
        f"server workers {args.workers}; users: {args.clinicians} clinicians, "
        f"{args.patient_users} patients, {args.ehr_users} EHR; {args.minutes:g} minutes"
    )
    started = time.perf_counter()
    prepared = prepare(args, reference)
    with tempfile.TemporaryDirectory(prefix="cw_load_") as scratch:
        work = Path(scratch)
        bundles = ehr_bundles(args, reference, work / "bundles.ndjson")
        print(
            f"generated {len(prepared):,} + {bundles:,} (for the EHR) bundles in "
            f"{time.perf_counter() - started:.0f} s"
        )
        with throwaway_database(server_url, args.keep) as url:
            upgrade(url)
            AUTH.update(benchmark_clinician(url))
            port = free_port()
            with running_server(url, port, args.workers, SERVER_SETTINGS) as server:
                started = time.perf_counter()
                imported = load(port, "POST", "/fhir", [p.raw for p in prepared], args.concurrency)
                if sum(n for s, n in imported.statuses.items() if s < 300) != len(prepared):
                    print(f"loading: {imported.statuses}; first error {imported.first_error}")
                    return 1
                active = end_past_pregnancies(url, prepared)
                plan = {
                    **make_accounts(url, args),
                    "users": {
                        "clinician": args.clinicians,
                        "patient": args.patient_users,
                        "ehr": args.ehr_users,
                    },
                    "bundles": str(work / "bundles.ndjson"),
                    "ready": str(work / "ready"),
                    "results": str(work / "results.json"),
                }
                plan_path = work / "plan.json"
                plan_path.write_text(json.dumps(plan))
                print(
                    f"loaded in {time.perf_counter() - started:.0f} s "
                    f"({imported.rate:.0f} bundles/s); {active:,} active pregnancies"
                )
                log = MemoryLog(server.pid)
                started = time.perf_counter()
                code = run_locust(port, plan_path, args, log)
                seconds = time.perf_counter() - started
                workers_at_end = worker_pids(server.pid)
            results_path = work / "results.json"
            if not results_path.exists():
                # locust's own summary and any traceback: its exit status 1 means only that
                # some request failed, which the results say better.
                print((work / "locust.log").read_text()[-3000:])
                print(f"locust wrote no results (exit status {code})")
                return 1
            results = json.loads(results_path.read_text())

    lines, requests, failed = route_table(results, seconds)
    memory, growth_warm, growth_cold = memory_table(log, args.warmup)
    print()
    print(f"load: {seconds:.0f} s, {requests:,} requests, {failed:,} failed", end="")
    print(f" (error rate {failed / max(requests, 1):.3%})")
    print("\n".join(lines))
    for route, kinds in sorted(results["failures"].items()):
        for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
            print(f"  failed: {route}: {n} x {kind}")
    print(
        f"EHR: {results['bundles_sent']:,} bundles sent of {results['bundles_available']:,} "
        "prepared"
    )
    print()
    print("\n".join(memory))
    if sorted(log.samples) != workers_at_end:
        print(
            f"workers changed during the run: sampled {sorted(log.samples)}, at the end "
            f"{workers_at_end}"
        )
    print(
        f"worst growth: {growth_warm:+.1%} after the {args.warmup:.0f} s warm-up, "
        f"{growth_cold:+.1%} from before the load (limit {MEMORY_GROWTH_LIMIT:.0%})"
    )
    held = failed == 0 and growth_warm < MEMORY_GROWTH_LIMIT
    print(f"held: {'yes' if held else 'NO'}")
    return 2 if args.strict and not held else 0


if __name__ == "__main__":
    sys.exit(main())
