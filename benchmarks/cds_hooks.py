"""Benchmark: CDS Hooks `patient-view` latency with prefetch, from concurrent EHR clients.

    uv run python benchmarks/cds_hooks.py [--patients 5000] [--clients 4] [--requests 2000]
    uv run python benchmarks/cds_hooks.py --quick      # 200 women, 400 requests: a smoke run

1. Generates `--patients` SYNTHETIC women of the demo cohort (`cervixwatch.cohort`), active
   today, and turns each one's Bundle into the prefetch an EHR fills in from the discovery's
   templates (the Patient, then one searchset per template). Not timed.
2. Starts `cervixwatch serve` (`--workers` processes) on a free loopback port, on a fresh
   SQLite database in a temporary directory (or `--database-url`), trusting one EHR whose
   public key is configured out of band (`CERVIXWATCH_CDS_HOOKS_CLIENTS`).
3. Signs one JWT per request beforehand (ES384, as an EHR does; not timed), then sends
   `--requests` patient-view calls, each for the next woman, from `--clients` threads with a
   keep-alive connection each, after a warm-up. Each call checks the JWT (signature, aud,
   exp, jti stored), reads the prefetch through the FHIR reader, assesses her and stores the
   cards with the audit entry. Target: p99 under 150 ms at 4 clients.

The service reads the EHR's data, not the store's pregnancies: the store's size does not
enter a call, the number of cards and audit entries written does. Everything runs on this
machine, so the load generator competes with the server for the CPUs. See
docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import api
from cervixwatch.cohort import DEFAULT_SEED, cohort_bundle, cohort_patient

ISSUER = "https://ehr.bench.example.org"
SERVICE = "/cds-services/cervixwatch-patient-view"
TARGET_P99_MS = 150.0
SEARCHES = {
    "observations": "Observation",
    "conditions": "Condition",
    "procedures": "Procedure",
    "medicationRequests": "MedicationRequest",
    "medicationStatements": "MedicationStatement",
    "questionnaireResponses": "QuestionnaireResponse",
    "tasks": "Task",
}


def prefetch_of(bundle: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Her patient id and the prefetch an EHR would send for her."""
    resources = [e["resource"] for e in bundle["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    prefetch: dict[str, Any] = {"patient": patient}
    for key, kind in SEARCHES.items():
        found = [r for r in resources if r["resourceType"] == kind]
        prefetch[key] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": [{"resource": r} for r in found],
        }
    return patient["id"], prefetch


def bodies(patients: int, today: dt.date) -> list[bytes]:
    out = []
    for index in range(patients):
        patient_id, prefetch = prefetch_of(
            cohort_bundle(cohort_patient(index, DEFAULT_SEED, today))
        )
        body = {
            "hookInstance": str(uuid.uuid4()),
            "hook": "patient-view",
            "context": {"userId": "Practitioner/bench", "patientId": patient_id},
            "prefetch": prefetch,
        }
        out.append(json.dumps(body).encode())
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def post(connection: http.client.HTTPConnection, body: bytes, token: str) -> tuple[int, bytes]:
    connection.request(
        "POST",
        SERVICE,
        body=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    response = connection.getresponse()
    return response.status, response.read()


@contextmanager
def running_server(
    database_url: str, port: int, workers: int, key: ECKey
) -> Iterator[subprocess.Popen[bytes]]:
    settings = {
        "CERVIXWATCH_CDS_HOOKS_CLIENTS": json.dumps(
            [{"issuer": ISSUER, "jwks": {"keys": [key.as_dict(private=False)]}}]
        ),
        "CERVIXWATCH_CDS_HOOKS_GUIDELINE": "acog",
        "CERVIXWATCH_NOTIFY_IN_SERVER": "false",
    }
    with api.running_server(database_url, port, workers, settings) as server:
        yield server


@contextmanager
def database(postgres: str | None, directory: str) -> Iterator[str]:
    """A fresh database: SQLite in `directory`, or a throwaway one on the PostgreSQL server."""
    if postgres is None:
        yield f"sqlite:///{directory}/cds-bench.db"
        return
    name = f"cw_bench_cds_{secrets.token_hex(4)}"
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def tokens(key: ECKey, audience: str, count: int) -> list[str]:
    now = int(time.time())
    return [
        jwt.encode(
            {"alg": "ES384", "typ": "JWT", "kid": key.kid or "bench"},
            {
                "iss": ISSUER,
                "aud": audience,
                "iat": now,
                "exp": now + 3600,
                "jti": str(uuid.uuid4()),
            },
            key,
            algorithms=["ES384"],
        )
        for _ in range(count)
    ]


def run(
    port: int, payloads: Sequence[bytes], signed: Sequence[str], clients: int
) -> tuple[list[float], int, float]:
    """Latencies (ms) of every call, the number not answered 200, and the wall time."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    jobs = list(zip(payloads, signed, strict=True))

    def client(slot: int) -> None:
        nonlocal failures
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        bad = 0
        for body, token in jobs[slot::clients]:
            started = time.perf_counter()
            status, _ = post(connection, body, token)
            mine.append((time.perf_counter() - started) * 1000)
            bad += status != 200
        connection.close()
        with lock:
            latencies.extend(mine)
            failures += bad

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures, time.perf_counter() - started


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument(
        "--postgres",
        default=None,
        help="a PostgreSQL server URL (postgresql+psycopg://postgres@127.0.0.1:5432/test): "
        "the run uses a throwaway database on it, dropped afterwards; default SQLite",
    )
    parser.add_argument("--quick", action="store_true", help="200 women, 400 requests")
    args = parser.parse_args(argv)
    if args.quick:
        args.patients, args.requests, args.warmup = 200, 400, 40
    today = dt.date.today()  # noqa: DTZ011 - the server's clinic day is its local day
    print(f"preparing {args.patients} women's prefetch ...", flush=True)
    payloads = bodies(args.patients, today)
    key = ECKey.generate_key("P-384", parameters={"kid": "bench"})
    with tempfile.TemporaryDirectory() as directory, database(args.postgres, directory) as url:
        port = free_port()
        audience = f"http://127.0.0.1:{port}{SERVICE}"
        with running_server(url, port, args.workers, key):
            total = args.warmup + args.requests
            signed = tokens(key, audience, total)
            sent = [payloads[i % len(payloads)] for i in range(total)]
            _, warm_failures, _ = run(
                port, sent[: args.warmup], signed[: args.warmup], args.clients
            )
            latencies, failures, wall = run(
                port, sent[args.warmup :], signed[args.warmup :], args.clients
            )
    p99 = percentile(latencies, 0.99)
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs; Python {platform.python_version()}"
    )
    print(
        f"patient-view with prefetch, {args.clients} clients, {args.workers} workers, "
        f"{'PostgreSQL' if args.postgres else 'SQLite'}: "
        f"{len(latencies)} calls in {wall:.1f} s ({len(latencies) / wall:.0f}/s); "
        f"failed {failures + warm_failures}"
    )
    print(
        f"  median {statistics.median(latencies):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms,"
        f" p99 {p99:.1f} ms, max {max(latencies):.1f} ms"
        f" (target p99 < {TARGET_P99_MS:.0f} ms: {'met' if p99 < TARGET_P99_MS else 'NOT met'})"
    )
    return 0 if failures + warm_failures == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
