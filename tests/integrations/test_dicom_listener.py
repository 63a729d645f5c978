"""`cervixwatch dicom-listen`'s C-STORE SCP driven by DCMTK's `storescu`, a client we did
not write, sending SRs built with highdicom: stored once, refused with the C-STORE status
the standard gives (nothing written), an unknown woman kept for review."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.device_intake import IntakeDesk
from cervixwatch.app.device_readers import DeviceReaders, load_device_codes
from cervixwatch.dicom_listener import start_dicom_listener
from cervixwatch.store.models import CervicalLengthRow, DeviceMessageRow, DeviceMessageStatus
from tests.integrations.conftest import PROFILES, TODAY, register
from tests.integrations.sr_builder import build_sr, sr_bytes
from tests.store.tables import row_counts


def _dcmtk_storescu() -> str | None:
    """DCMTK's storescu, from the system's directories: pynetdicom installs a `storescu` of
    its own into the virtual environment, which is not the independent client wanted."""
    found = shutil.which("storescu", path="/usr/local/bin:/usr/bin:/bin")
    if found is None:
        return None
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    return found if "dcmtk" in (version.stdout + version.stderr).lower() else None


STORESCU = _dcmtk_storescu()
PORT = 11191
OK = "DIMSE Status                  : 0x0000: Success"

pytestmark = pytest.mark.skipif(
    STORESCU is None,
    reason="DCMTK's storescu is missing (Debian package dcmtk: `make dcmtk-deps` installs it)",
)


@pytest.fixture
def listener(factory: sessionmaker[Session]) -> Iterator[int]:
    desk = IntakeDesk(
        sessions=factory,
        readers=DeviceReaders(load_device_codes()),
        profiles=PROFILES,
        today=lambda: TODAY,
        local_system="urn:test:hospital-number",
    )
    server = start_dicom_listener(
        desk, host="127.0.0.1", port=PORT, ae_title="CERVIXWATCH", block=False
    )
    assert server is not None
    try:
        yield PORT
    finally:
        server.shutdown()


def _storescu(port: int, path: Path) -> str:
    """Send one file as the machine SONO1 would; what storescu printed of the answer (its
    status, and with -d the response's Error Comment)."""
    assert STORESCU is not None
    done = subprocess.run(
        [STORESCU, "-d", "-aet", "SONO1", "-aec", "CERVIXWATCH", "127.0.0.1", str(port), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    out = done.stdout + done.stderr
    assert "Received Store Response" in out, out  # -d: the status and its detail follow
    return out


def test_storescu_sends_reports_that_are_stored_refused_or_kept_for_review(
    factory: sessionmaker[Session], listener: int, tmp_path: Path
) -> None:
    woman = register(factory)
    report = tmp_path / "report.dcm"
    first = build_sr(lengths_mm=(21.0,))
    report.write_bytes(sr_bytes(first))
    assert OK in _storescu(listener, report)
    # Sent again (the machine retried): success, stored once.
    assert OK in _storescu(listener, report)
    with factory() as session:
        lengths = session.scalars(select(CervicalLengthRow)).all()
        assert [(r.length_mm, r.source_ref) for r in lengths] == [(21.0, str(first.SOPInstanceUID))]
        assert session.scalars(select(DeviceMessageRow.patient_id)).all() == [woman]

    counts = row_counts(factory)
    no_length = tmp_path / "no-length.dcm"
    no_length.write_bytes(sr_bytes(build_sr(lengths_mm=())))
    assert "0xc000: Error: Cannot understand" in _storescu(listener, no_length)
    wrong_unit = tmp_path / "wrong-unit.dcm"
    wrong_unit.write_bytes(sr_bytes(build_sr(unit="kg")))
    answer = _storescu(listener, wrong_unit)
    assert "0xc000: Error: Cannot understand" in answer
    assert "(0000,0902) LO [MeasurementUnitsCodeSequence[0].CodeValue: unit 'kg'" in answer
    assert row_counts(factory) == counts

    unknown = tmp_path / "unknown.dcm"
    unknown.write_bytes(sr_bytes(build_sr("SYN-4040")))
    assert OK in _storescu(listener, unknown)
    with factory() as session:
        queued = session.scalars(
            select(DeviceMessageRow).where(DeviceMessageRow.status == DeviceMessageStatus.REVIEW)
        ).one()
        assert queued.patient_value == "SYN-4040"
