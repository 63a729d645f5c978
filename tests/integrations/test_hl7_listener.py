"""`cervixwatch hl7-listen`'s MLLP listener driven by python-hl7's `mllp_send`, a client we did
not write: ORU^R01 results stored once, a correction (OBX-11 C) replacing the value, an
unknown woman kept for review, and bad messages answered AE or AR with an ERR naming the
segment and field, nothing written (row counts before and after)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.device_intake import IntakeDesk
from cervixwatch.app.device_readers import DeviceReaders, load_device_codes
from cervixwatch.hl7_listener import serve_hl7
from cervixwatch.store.models import CervicalLengthRow, DeviceMessageRow, DeviceMessageStatus
from tests.integrations.conftest import PROFILES, TODAY, register
from tests.integrations.hl7_builder import oru
from tests.store.tables import row_counts

PORT = 2591
MLLP_SEND = shutil.which("mllp_send") or str(Path(sys.executable).parent / "mllp_send")


@pytest.fixture
def listener(factory: sessionmaker[Session]) -> Iterator[int]:
    desk = IntakeDesk(
        sessions=factory,
        readers=DeviceReaders(load_device_codes()),
        profiles=PROFILES,
        today=lambda: TODAY,
        local_system="urn:test:hospital-number",
    )
    loop = asyncio.new_event_loop()
    ready = asyncio.Event()

    async def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await serve_hl7(desk, host="127.0.0.1", port=PORT, started=ready)

    task = loop.create_task(run())
    thread = threading.Thread(target=loop.run_until_complete, args=(task,))
    thread.start()
    for _ in range(100):
        if ready.is_set():
            break
        time.sleep(0.05)
    assert ready.is_set(), "the MLLP listener did not start"
    try:
        yield PORT
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(10)
        loop.close()


def _send(port: int, tmp_path: Path, *messages: str) -> list[str]:
    """Send the messages over one connection with mllp_send; the ACKs, in order."""
    batch = tmp_path / "batch.hl7"
    batch.write_bytes(b"".join(b"\x0b" + m.encode() + b"\x1c\r" for m in messages))
    done = subprocess.run(
        [MLLP_SEND, "--port", str(port), "--file", str(batch), "127.0.0.1"],
        capture_output=True,
        timeout=60,
        check=True,
    )
    acks = [a.strip(b"\x0b\r\n").decode() for a in done.stdout.split(b"\x1c")]
    return [a for a in acks if a]


def _segment(ack: str, name: str) -> list[str]:
    return next(s for s in ack.split("\r") if s.startswith(name)).split("|")


def test_mllp_send_results_are_acknowledged_stored_once_and_corrected(
    factory: sessionmaker[Session], listener: int, tmp_path: Path
) -> None:
    woman = register(factory)
    acks = _send(
        listener,
        tmp_path,
        oru("M1", value="2.3", unit="cm^centimeter^UCUM"),
        oru("M1", value="2.3", unit="cm^centimeter^UCUM"),  # sent again
        oru("M2", value="19", status="C"),  # corrects M1's result (same order and code)
        oru("M3", patient="SYN-4040"),  # no such woman: for review
    )
    assert [_segment(a, "MSA")[1:3] for a in acks] == [
        ["AA", "M1"],
        ["AA", "M1"],
        ["AA", "M2"],
        ["AA", "M3"],
    ]
    with factory() as session:
        assert session.scalars(select(CervicalLengthRow.length_mm)).all() == [19.0]
        statuses = session.scalars(
            select(DeviceMessageRow.status).order_by(DeviceMessageRow.id)
        ).all()
        assert statuses == [DeviceMessageStatus.STORED] * 2 + [DeviceMessageStatus.REVIEW]
        owners = session.scalars(select(DeviceMessageRow.patient_id).order_by(DeviceMessageRow.id))
        assert owners.all() == [woman, woman, None]

    counts = row_counts(factory)
    bad = _send(
        listener,
        tmp_path,
        oru("B1", code="99999-9^Something else^LN"),
        oru("B2", segments=("PID", "OBR")),
        oru("B3", encoding="^~\\#"),
        oru("B4", unit="kg^kilogram^UCUM"),
        oru("B5", status="P"),
        oru("B6", segments=("OBR", "OBX")),
    )
    found = [(_segment(a, "MSA")[1], _segment(a, "ERR")[2], _segment(a, "ERR")[3]) for a in bad]
    assert found == [
        ("AE", "OBX^1^3", "103^Table value not found^HL70357"),
        ("AE", "OBX^1", "100^Segment sequence error^HL70357"),
        ("AR", "MSH^1^2", "102^Data type error^HL70357"),
        ("AE", "OBX^1^6", "102^Data type error^HL70357"),
        ("AE", "OBX^1^11", "103^Table value not found^HL70357"),
        ("AE", "PID^1", "100^Segment sequence error^HL70357"),
    ]
    assert row_counts(factory) == counts
