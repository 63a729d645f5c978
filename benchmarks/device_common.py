"""What the device-intake benchmarks share (benchmarks/dicom_intake.py, hl7_intake.py): a fresh
database with SYNTHETIC women known by a hospital number under the hospital's OID, and a
listener command (`cervixwatch dicom-listen` / `hl7-listen`) run as a process on it, as a
hospital runs it."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from cervixwatch.clinical.records import PregnancyRecords
from cervixwatch.interop.fhir_patient import Identifier
from cervixwatch.store import make_engine, session_factory, transaction, upgrade
from cervixwatch.store.records import PatientFields, save_records

#: The hospital's patient-ID issuer the synthetic messages carry (an ISO OID).
HOSPITAL_OID = "1.2.826.0.1.999999.1"
STARTUP_SECONDS = 60


def patient_id(n: int) -> str:
    return f"BENCH-{n:06d}"


def seed_women(url: str, count: int, today: dt.date) -> None:
    """`count` women, each with an active pregnancy at about 20 weeks today. Not timed."""
    upgrade(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    edd = today + dt.timedelta(days=140)
    try:
        for n in range(count):
            fields = PatientFields(
                identifiers=(Identifier(patient_id(n), f"urn:oid:{HOSPITAL_OID}"),)
            )
            with transaction(sessions) as session:
                save_records(session, fields, PregnancyRecords(patient_id="", edd=edd))
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def listener(command: Sequence[str], port: int, url: str, log: Path) -> Iterator[int]:
    """`cervixwatch <command> --port port --database-url url` until the block ends; gives its
    process id (for `cpu_seconds`)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "cervixwatch"),
                *command,
                "--port",
                str(port),
                "--host",
                "127.0.0.1",
                "--database-url",
                url,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while not _listening(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not start; see {log}")
                time.sleep(0.1)
            yield process.pid
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def stored_lengths(url: str) -> int:
    from sqlalchemy import func, select

    from cervixwatch.store.models import CervicalLengthRow

    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return session.scalar(select(func.count()).select_from(CervicalLengthRow)) or 0
    finally:
        engine.dispose()


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) the process has used so far, from /proc (Linux): what a
    message costs the listener whatever else the machine runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
